"""The rules the actions enforce and the pages ask: pure functions over the models, no writes.

predicates (each action's preconditions), permissions (who may do what), redflags and quoting
(when an offer needs a manager), pricing (the price list's arithmetic), inspection (the intake
checklist), compliance (the second-hand dealer rules), and the input rules: parsers, addresses,
photos, sheets and device_list (a business's CSV or XLSX of devices).
"""
