"""The rule registry: every `ffNNN_<slug>.py` module in this package defines one rule."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from typing import Any, Dict, FrozenSet, Optional, Sequence, Tuple, Type

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


def rule_names() -> Dict[str, str]:
    """Code -> name of every rule: what configuration and command-line selectors are checked against."""
    return {code: rule.name for code, rule in all_rules().items()}


def matches(code: str, selector: str) -> bool:
    selector = selector.strip().upper()
    return selector == "ALL" or code.startswith(selector)


def select_codes(selections: Sequence[Any]) -> FrozenSet[str]:
    """Resolve layers of selection (each with `select`, `extend_select`, `ignore`) as Ruff does.

    Start from the rules that are on by default. A layer with `select` replaces the set so far
    with what it selects; a layer without one turns on what it extends and off what it ignores.
    Within a layer the most specific selector wins (`FF201` over `FF2` over `ALL`) and `ignore`
    wins a tie. A layer of `select = []` with an `ignore` passes that ignore on to the next
    layer, so a configuration can subtract from a command-line `--select`. Naming a rule, its
    group or its family turns it on even when it is off by default.
    """
    rules = all_rules()
    chosen = {code for code, rule in rules.items() if rule.default_on}
    carried: Tuple[str, ...] = ()
    for layer in selections:
        ignore = (*layer.ignore, *carried)
        carried = ()
        updates: Dict[str, bool] = {}
        for code in rules:
            best, state = -1, None
            for selector in (*(layer.select or ()), *layer.extend_select):
                if matches(code, selector) and _specificity(selector) >= best:
                    best, state = _specificity(selector), True
            for selector in ignore:
                if matches(code, selector) and _specificity(selector) >= best:
                    best, state = _specificity(selector), False
            if state is not None:
                updates[code] = state
        if layer.select is not None:
            chosen = {code for code, on in updates.items() if on}
            if not layer.select and not layer.extend_select and layer.ignore:
                carried = tuple(layer.ignore)
        else:
            chosen = ({*chosen, *(c for c, on in updates.items() if on)}) - {c for c, on in updates.items() if not on}
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
