"""Pure drift evaluation, one module per rule family behind one interface (``rules.base.RuleFamily``).

:data:`FAMILIES` is the one list of families. Adding a family (process, infra) is: a rules module
declaring ``FAMILY = RuleFamily(category=..., rules=..., evaluate=...)``, an assets module
``drift_pipeline.defs.assets.<category>`` (see ``drift_pipeline.defs.assets.families``), and one entry here.
The rule registry and contract check (``rules.findings``), the findings union, the asset list and
the job selection are derived from this tuple; nothing registers itself on import.
"""

from __future__ import annotations

from drift_pipeline.core.rules import code, infra, process
from drift_pipeline.core.rules.base import RuleFamily

FAMILIES: tuple[RuleFamily, ...] = (code.FAMILY, process.FAMILY, infra.FAMILY)
