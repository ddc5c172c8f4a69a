"""The auditor's checks (审计核查): the engine that runs the checks the domains register for
what looks wrong, keeps each finding with its evidence and its explanation, and draws samples
of cases for review. It imports no domain."""
