"""Vendor tag rules (`tag_rules/{vendor}.toml`): the schema and its loader."""

from gateway.rules.loader import load_rules
from gateway.rules.model import HitRule, Rule
from gateway.rules.name_sets import NameSet

__all__ = ["HitRule", "NameSet", "Rule", "load_rules"]
