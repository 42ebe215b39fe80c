"""The modules whose ``@rule``s make up the policy; loaded once, before the first decision.

Add your area's ``access`` module here (one line), as datasette registers its default plug-ins.
"""

RULE_MODULES: tuple[str, ...] = (
    "cvis.cases.access",
    "cvis.hashsets.access",
    "cvis.offices.access",
    "cvis.fusion.access",
    "cvis.linkage.access",
    "cvis.policy.rules",
    "cvis.web.access",
    "cvis.portal.access",
    "cvis.tips.access",
    "cvis.foreign.access",
)
