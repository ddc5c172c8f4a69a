"""Leads (线索): rules that turn matches into proposals for the cadre of the member's unit.

``facts`` builds the rule inputs from a matched record and the member; ``services`` saves
rules, raises leads after a run (or a confirmation in review), accepts and dismisses them;
``selectors`` reads them in scope and counts the conversion; ``defaults`` seeds the rules.
"""
