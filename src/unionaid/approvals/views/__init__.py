"""Back-office pages of the approval engine: the to-do list and decisions, the flow editor."""
