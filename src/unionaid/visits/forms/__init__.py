"""Forms of the visits pages: campaigns and pairings (campaigns), visit records (records)."""
