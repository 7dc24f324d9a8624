"""Importers: legacy and third-party card formats in.

* ``lm_risk_cards``: parse the legacy leondz/lm_risk_cards starter set (2023 bold-markdown and 2024
  YAML-ish forms) into a ``LegacyCard`` record: pure, line-numbered, never raises on bad input.
* ``to_card``: ``LegacyCard`` -> card data -> YAML text, deterministic (fixed key order and formatting).
* ``run``: files and folders in, ``<out>/cards/<id>.yaml`` out (atomic, idempotent, ``--check``), and the
  import report (text and JSON).

The CLI is ``riskcards import lm-risk-cards`` (``riskcards/cli/importers.py``).
"""
