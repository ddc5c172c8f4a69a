"""URLs of the members pages, one module per mount in config/urls.py: /members/ (members,
namespace ``members``), /members/io/ (io, ``members_io``) and /org/ (org, ``org``)."""
