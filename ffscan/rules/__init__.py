"""The rule registry: every `ffNNN_<slug>.py` module in this package defines one rule."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from typing import Dict, FrozenSet, Iterable, Optional, Sequence, Tuple, Type

from ffscan.model import RuleInfo
from ffscan.rules.base import Rule, first_doc_sentence, rule_doc

_MODULE_PATTERN = re.compile(r"^ff(\d{3})_[a-z0-9_]+$")
_REGISTRY: Optional[Dict[str, Type[Rule]]] = None


def all_rules() -> Dict[str, Type[Rule]]:
    """Code -> rule class, in code order. Imported once, on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        found: Dict[str, Type[Rule]] = {}
        for info in pkgutil.iter_modules(__path__):
            match = _MODULE_PATTERN.match(info.name)
            if not match:
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            classes = [
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__
            ]
            if len(classes) != 1 or classes[0].code != f"FF{match.group(1)}":
                raise RuntimeError(f"{module.__name__} must define exactly one rule, FF{match.group(1)}")
            found[classes[0].code] = classes[0]
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def rule_by_code(code: str) -> Type[Rule]:
    return all_rules()[code]


def rule_names() -> Dict[str, str]:
    """Code -> name of every rule: what configuration and command-line selectors are checked against."""
    return {code: rule.name for code, rule in all_rules().items()}


def matches(code: str, selector: str) -> bool:
    selector = selector.strip().upper()
    return selector == "ALL" or code.startswith(selector)


def select_codes(
    select: Optional[Sequence[str]],
    extend_select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> FrozenSet[str]:
    """Resolve selectors the way Ruff does: the most specific matching selector wins.

    Without `select`, the rules that are on by default are selected. Naming a rule, its
    group or its family in `select`/`extend-select` turns it on even if it is off by default.
    """
    chosen = []
    for code, rule in all_rules().items():
        best_len, on = -1, False
        base = select if select is not None else ()
        if select is None and rule.default_on:
            best_len, on = 0, True
        for selector in (*base, *extend_select):
            if matches(code, selector) and _specificity(selector) >= best_len:
                best_len, on = _specificity(selector), True
        for selector in ignore:
            if matches(code, selector) and _specificity(selector) >= best_len:
                best_len, on = _specificity(selector), False
        if on:
            chosen.append(code)
    return frozenset(chosen)


def _specificity(selector: str) -> int:
    selector = selector.strip().upper()
    return 0 if selector == "ALL" else len(selector)


def rule_info(rule: Type[Rule]) -> RuleInfo:
    return RuleInfo(
        code=rule.code,
        name=rule.name,
        summary=first_doc_sentence(rule),
        doc=rule_doc(rule),
        severity=rule.severity,
        impacts=rule.impacts,
        risk=rule.risk,
        default_on=rule.default_on,
        off_reason=rule.off_reason,
        fix_title=rule.fix_title,
        fix_applicability=rule.fix_applicability,
        subject=rule.subject,
        loss=rule.loss,
    )


def all_rule_infos() -> Dict[str, RuleInfo]:
    return {code: rule_info(rule) for code, rule in all_rules().items()}


def find_rule(code_or_name: str, infos: Dict[str, RuleInfo]) -> Tuple[Optional[RuleInfo], str]:
    """The rule a code (`ff201`) or name (`dangling-task`) names, or None and a did-you-mean hint."""
    by_name = {info.name: info for info in infos.values()}
    info = infos.get(code_or_name.upper()) or by_name.get(code_or_name)
    if info is not None:
        return info, ""
    close = difflib.get_close_matches(code_or_name, [*infos, *by_name], n=1)
    return None, f"; did you mean {close[0]}?" if close else ""
