"""Matching other departments' lists against the member roll (政策找职工): external datasets,
exact and probabilistic linkage, the review queue, and the leads that matches raise."""
