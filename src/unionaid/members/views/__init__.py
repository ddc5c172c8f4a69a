"""Back-office pages of members: the member pages (members), roster import and export (io) and
the org tree (org, mounted at /org/: the tree counts members)."""
