"""Back-office pages of the assistance app: applications, materials, the catalog editor."""
