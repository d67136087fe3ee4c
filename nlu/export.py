"""``trolyso nlu export-rasa DIR``: the training data as a Rasa 3 project."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from nlu.data import content_examples

__all__ = ["RASA_CONFIG", "export_rasa", "export_taught"]

#: A pipeline suited to Vietnamese without a tokenizer model: whitespace tokens (Vietnamese
#: writes one syllable per token), word and character n-gram counts (char_wb 2-4 copes with
#: typos and missing diacritics), a small DIET (one transformer layer: it trains in minutes on
#: two CPU cores) for intents and the aspect entity, and a fallback below a low confidence.
RASA_CONFIG: dict[str, Any] = {
    "recipe": "default.v1",
    "language": "vi",
    "assistant_id": "trolyso",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2,
         "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 60, "constrain_similarities": True,
         "number_of_transformer_layers": 1, "transformer_size": 128},
        {"name": "EntitySynonymMapper"},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ],
    "policies": [],
}


def export_rasa(content: Any, out_dir: Path) -> list[Path]:
    """Write config.yml, domain.yml and data/nlu.yml under ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "data").mkdir(exist_ok=True)
    by_label: dict[str, list[str]] = {}
    # Keep the aspect annotations of the Rasa files; add names, aliases and FAQ questions.
    for path in sorted(content.nlu_files):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for block in data.get("nlu") or []:
            if isinstance(block, dict) and block.get("intent"):
                lines = [ln.strip()[2:].strip() for ln in str(block.get("examples", ""))
                         .splitlines() if ln.strip().startswith("- ")]
                # "legal_help/legal-vay-tien-khong-tra" (a retrieval intent) trains its intent:
                # without responses in the domain, Rasa would refuse the retrieval form.
                label = str(block["intent"]).partition("/")[0]
                by_label.setdefault(label, []).extend(lines)
    for e in content_examples(content):
        if e.label in by_label:
            by_label[e.label].append(e.text.replace("[", "(").replace("]", ")"))
    nlu_items = []
    for label in sorted(by_label):
        lines = list(dict.fromkeys(by_label[label]))
        nlu_items.append({"intent": label,
                          "examples": "".join(f"- {x}\n" for x in lines)})
    files = {
        out_dir / "config.yml": RASA_CONFIG,
        out_dir / "domain.yml": {
            "version": "3.1",
            "intents": sorted(by_label),
            "entities": ["aspect"],
        },
        out_dir / "data" / "nlu.yml": {"version": "3.1", "nlu": nlu_items},
    }
    written = []
    for path, data in files.items():
        with path.open("w", encoding="utf-8") as fh:
            yaml.dump(data, fh, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False,
                      width=1000)
        written.append(path)
    return written


TAUGHT_FILE = "taught.yml"


def export_taught(examples: Sequence[tuple[str, str]], out_dir: Path,
                  note: str = "") -> Path:
    """Write examples taught in the console, ``(text, label)``, as Rasa 3 NLU YAML in
    ``out_dir/taught.yml`` (``content/nlu`` to train every future engine on them). Labels keep
    their Rasa form: ``svc_<id>``, an intent, or ``intent/faq-id``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(" ".join(text.split()))
    items = [{"intent": label, "examples": "".join(f"- {t}\n" for t in dict.fromkeys(texts))}
             for label, texts in sorted(by_label.items())]
    path = out_dir / TAUGHT_FILE
    header = ("# Examples taught by content editors in the console (trolyso nlu export-taught).\n"
              "# Citizens' questions, masked and read by an editor before they were saved: no\n"
              "# names, numbers or link to who asked. Edit or delete lines like any other file.\n")
    if note:
        header += f"# {note}\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(header)
        yaml.dump({"version": "3.1", "nlu": items}, fh, Dumper=_BlockDumper,
                  allow_unicode=True, sort_keys=False, width=1000)
    return path


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks, as Rasa's own files do."""


def _str_rep(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_rep)
