"""Markdown tables and one-line summaries of score dicts, shared by the model card and the training log."""

from __future__ import annotations


def score_table(d: dict) -> str:
    """Markdown table of a ClassificationScore dict."""
    lines = ["| class | reference beats | predicted | Se % | +P % | F1 % |", "|---|---:|---:|---:|---:|---:|"]
    for c, v in d["classes"].items():
        f = [("n/a" if v[k] is None or v[k] != v[k] else f"{100 * v[k]:.1f}") for k in ("se", "ppv", "f1")]
        lines.append(f"| {c} | {v['ref']} | {v['pred']} | {f[0]} | {f[1]} | {f[2]} |")
    lines.append(f"\nOverall accuracy: **{100 * d['accuracy']:.2f}%** over {d['beats']} beats.")
    return "\n".join(lines)


def confusion_table(d: dict) -> str:
    """Markdown confusion table (rows reference, columns predicted) of a ClassificationScore dict."""
    cols = d["confusion"]["columns_predicted"]
    lines = ["| reference \\ predicted | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for c, row in zip(d["confusion"]["rows_reference"], d["confusion"]["counts"], strict=False):
        lines.append(f"| **{c}** | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


#: The project's acceptance bars (rhythm path, reference beat positions, record-grouped CV on DS1).
BARS = (("VEB", "se", 0.92), ("VEB", "ppv", 0.92), ("SVEB", "se", 0.80), ("SVEB", "ppv", 0.60),
        (None, "accuracy", 0.94))



def _pct(v) -> str:
    """A share as a percentage with one decimal; ``n/a`` for None or NaN."""
    return "n/a" if v is None or v != v else f"{100 * v:.1f}%"


def _bars_table(score: dict) -> str:
    """Markdown table of ``score`` against the project's acceptance :data:`BARS`."""
    lines = ["| bar | required | cross-validated | met |", "|---|---:|---:|---|"]
    for cls, key, need in BARS:
        got = score["accuracy"] if cls is None else score["classes"][cls][key]
        name = "overall accuracy" if cls is None else f"{cls} {'Se' if key == 'se' else '+P'}"
        ok = got is not None and got == got and got >= need
        shown = "n/a" if got is None or got != got else f"{100 * got:.2f}%"
        lines.append(f"| {name} | >= {100 * need:.0f}% | {shown} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines)


def _per_record_table(per_record: dict) -> str:
    """Markdown table of the per-record rows (:func:`~ecg_core.train.cv.record_entry`)."""
    lines = ["| record | beats | accuracy | SVEB found/ref (pred) | VEB found/ref (pred) | F found/ref (pred) |",
             "|---|---:|---:|---|---|---|"]
    for name, v in per_record.items():
        cells = []
        for c in ("SVEB", "VEB", "F"):
            d = v.get(c)
            cells.append(f"{d['tp']}/{d['ref']} ({d['pred']})" if d else "0/0 (0)")
        lines.append(f"| {name} | {v['beats']} | {_pct(v['accuracy'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _reliability_table(bins: list) -> str:
    """Markdown table of the non-empty reliability-curve bins."""
    lines = ["| confidence bin | beats | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    for b in bins:
        if b["count"]:
            lines.append(f"| {b['lower']:.2f}-{b['upper']:.2f} | {b['count']} | {b['confidence']:.3f} | "
                         f"{b['accuracy']:.3f} |")
    return "\n".join(lines)


def _score_line(d: dict) -> str:
    """One line of a score dict: accuracy, then SVEB, VEB and F sensitivity / +P."""
    c = d["classes"]
    return (f"accuracy {_pct(d['accuracy'])}; SVEB Se/+P {_pct(c['SVEB']['se'])}/{_pct(c['SVEB']['ppv'])}; "
            f"VEB {_pct(c['VEB']['se'])}/{_pct(c['VEB']['ppv'])}; F {_pct(c['F']['se'])}/{_pct(c['F']['ppv'])}")


def _other_run(run: dict) -> str:
    """Summary of another evaluation run of the same procedure (shows the run-to-run spread)."""
    return (f"### Another run: {run['protocol']}\n\n`{run['command']}` ({run.get('note', '')}; seeds "
            f"{run['seeds']}):\n\n- (a) rhythm path: {_score_line(run['rhythm'])}\n- (b) morphology-only: "
            f"{_score_line(run['morphology'])}\n- (c) end to end: {_score_line(run['end_to_end'])} (reference scorer: "
            f"`{run['end_to_end']['reference_scorer']}`)\n- temperatures " + ", ".join(
                f"{k} {v:.3f}" for k, v in run["temperature"].items()) + "; ECE after " + ", ".join(
                f"{k} {v:.4f}" for k, v in run["ece_after"].items()) + "\n")


