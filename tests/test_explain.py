"""``fulfillmap explain``: the mapping as Markdown and JSON, and the README regions made from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main
from fulfillmap.errors import FulfillmapError
from fulfillmap.evaluate._mapping import load
from fulfillmap.tooling._explain import explain, to_json, to_markdown, update_regions

REPO = Path(__file__).resolve().parent.parent

ODD_MAPPING = """\
name: odd-shapes
source: {name: Order, schema: fulfillmap:order.schema.json}
target: {name: Request, schema: fulfillmap:fulfillment-order-request.schema.json}
fields:
  currency:
    from: currency || 'USD'
    description: "A pipe | in the text"
  locale:
    value: en_US
  name:
    from: [shipTo.name, billTo.name, "join(' ', [billTo.firstName, billTo.lastName])"]
    default: Customer
  email:
    from: email
    scope: context
  items:
    each: items[?quantity > `0`]
    where: skuId != `null`
    fields:
      inventoryItemId:
        from: id
        scope: root
      quantity: to_integer(quantity)
  shippingChoice:
    fields:
      signatureRequiredType:
        plugin: signature-required-type
        args: {strict: true}
rules:
  - name: has-items
    check: length(items) > `0`
    message: no items
"""


@pytest.fixture
def odd(tmp_path: Path) -> Any:
    path = tmp_path / "odd.yaml"
    path.write_text(ODD_MAPPING, encoding="utf-8")
    return load(path).spec


def test_rows_follow_output_order_with_sources_from_the_root() -> None:
    rows = {row.target: row for row in explain(load("order-to-fulfillment-order").spec)}
    assert list(rows)[:3] == ["upstreamId", "currency", "locale"]
    assert rows["items[].inventoryItemId"].source == "items[].skuId"
    assert rows["items[].tax.amount"].source == "items[].tax.amount"
    assert rows["name"].fallbacks == ("billTo.name",)
    assert rows["shippingChoice.dutiesPaid"].plugin == "duties-paid"
    assert "shippingChoice" not in rows  # plain objects are shown through their fields
    assert rows["items"].required
    assert not rows["locale"].required


def test_where_scope_constants_defaults_and_plugin_args(odd: Any) -> None:
    rows = {row.target: row for row in explain(odd)}
    assert rows["items"].source == "items[?quantity > `0`]"
    assert rows["items"].where == "skuId != `null`"
    # an expression that is not a plain path is shown beside the array it is evaluated on
    assert rows["items[].quantity"].source == "items[?quantity > `0`][]: to_integer(quantity)"
    assert rows["items[].inventoryItemId"].source == "id"  # scope root
    assert rows["email"].source == "context.email"
    assert rows["locale"].value == "en_US"
    assert rows["name"].has_default
    assert rows["name"].default == "Customer"
    assert rows["name"].fallbacks[1] == "join(' ', [billTo.firstName, billTo.lastName])"
    assert rows["shippingChoice.signatureRequiredType"].args == {"strict": True}


def test_markdown_escapes_pipes_and_backticks(odd: Any) -> None:
    text = to_markdown(odd)
    lines = text.splitlines()
    assert lines[0] == "### `odd-shapes`"
    assert "| `currency \\|\\| 'USD'` | → | `currency` | no |" in text
    assert "A pipe \\| in the text |" in text
    assert '| constant `"en_US"` | → | `locale` |' in text
    assert "`shipTo.name`" in text
    assert "`billTo.name`, then `join(" in text
    assert '| `"Customer"` |' in text
    assert "Only elements where `` skuId != `null` ``." in text
    assert '`signature-required-type {"strict": true}`' in text
    assert "| `has-items` | source |  | `` length(items) > `0` `` | error | no items |" in text
    # every table row has the header's number of cells (escaped pipes do not split cells)
    for line in lines:
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") in (9, 7), line


def test_json_lists_rows_and_rules(odd: Any) -> None:
    data = to_json(odd)
    assert data["name"] == "odd-shapes"
    by_target = {row["target"]: row for row in data["fields"]}
    assert by_target["name"]["default"] == "Customer"
    assert "default" not in by_target["currency"]  # no default is not a null default
    lines = ODD_MAPPING.splitlines()
    assert by_target["name"]["line"] == lines.index("  name:") + 1
    assert data["rules"] == [
        {
            "name": "has-items",
            "on": "source",
            "each": None,
            "check": "length(items) > `0`",
            "severity": "error",
            "message": "no items",
            "line": lines.index("  - name: has-items") + 1,
        }
    ]
    json.dumps(data)  # JSON-ready


def test_update_regions_replaces_only_marked_bodies() -> None:
    text = "intro\n<!-- fulfillmap:explain a -->\nold\n<!-- /fulfillmap:explain -->\nend\n"
    updated = update_regions(text, lambda name: f"table {name}\n")
    assert updated == (
        "intro\n<!-- fulfillmap:explain a -->\n\ntable a\n\n<!-- /fulfillmap:explain -->\nend\n"
    )
    assert update_regions(updated, lambda name: f"table {name}\n") == updated


def test_a_description_cannot_add_or_close_a_region() -> None:
    """A mapping's text is data: a marker in it is written inert (``&lt;!--``), so a second
    run finds the same regions."""
    text = "<!-- fulfillmap:explain a -->\nold\n<!-- /fulfillmap:explain -->\n"
    forged = "hi <!-- /fulfillmap:explain --> X <!-- fulfillmap:explain /etc/m.yaml -->"
    updated = update_regions(text, lambda name: forged)
    assert updated.count("<!--") == 2
    assert "&lt;!-- /fulfillmap:explain --> X &lt;!-- fulfillmap:explain /etc/m.yaml -->" in updated
    assert update_regions(updated, lambda name: forged) == updated


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no markers here\n", "no '<!-- fulfillmap:explain NAME -->' region"),
        ("<!-- fulfillmap:explain a -->\nbody\n", "^line 1: this .* malformed or has no"),
        (
            "x\n<!-- fulfillmap:explain a -->\n\n<!-- fulfillmap:explain b -->\n"
            "<!-- /fulfillmap:explain -->\n",
            "^line 2: this .* malformed or has no",  # a's, not b's
        ),
        ("x\n\n<!-- fulfillmap:explain a b -->\n<!-- /fulfillmap:explain -->\n", "^line 3: "),
    ],
)
def test_update_regions_rejects_missing_or_unclosed_markers(text: str, message: str) -> None:
    with pytest.raises(FulfillmapError, match=message):
        update_regions(text, lambda name: name)


def test_readme_tables_are_not_stale(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--update-readme", str(REPO / "README.md"), "--check"]) == 0
    assert "up to date" in capsys.readouterr().err


def test_update_readme_check_fails_on_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    stale = "# x\n<!-- fulfillmap:explain shipped-event-to-fulfillment -->\nold\n"
    readme.write_text(stale + "<!-- /fulfillmap:explain -->\n", encoding="utf-8")
    assert main(["explain", "--update-readme", str(readme), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{readme} is stale: run `fulfillmap explain --update-readme {readme}`" in err
    assert "old" in readme.read_text(encoding="utf-8")  # --check writes nothing
    assert main(["explain", "--update-readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text
    assert "| `to_id(data.object.id)` | → | `shipmentId` | yes |" in text


def test_update_readme_with_an_unknown_mapping_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    original = "<!-- fulfillmap:explain nope -->\n<!-- /fulfillmap:explain -->\n"
    readme.write_text(original, encoding="utf-8")
    assert main(["explain", "--update-readme", str(readme)]) == 1
    assert "no mapping named 'nope'" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == original


def _readme(folder: Path, name: str) -> Path:
    readme = folder / "README.md"
    text = f"# x\n\n<!-- fulfillmap:explain {name} -->\nold\n<!-- /fulfillmap:explain -->\n"
    readme.write_text(text, encoding="utf-8")
    return readme


def test_update_readme_reads_no_file_outside_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A README is data (a pull request's is checked in CI): a marker names a shipped mapping
    or a file inside the README's folder, and an error says where and why, never what
    another file holds."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "m.yaml").write_text("TOP-SECRET-TOKEN: 1\n", encoding="utf-8")
    (secret / "x").write_text("TOP-SECRET-TOKEN\n", encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "link.yaml").symlink_to(secret / "m.yaml")
    monkeypatch.chdir(secret)  # the current directory is not the README's folder
    cases = {
        "/etc/passwd": "the mapping file /etc/passwd is an absolute path",
        str(secret / "m.yaml"): f"the mapping file {secret / 'm.yaml'} is an absolute path: "
        "give it relative to the Markdown file",
        "../secret/m.yaml": "the mapping file ../secret/m.yaml is outside the folder a Markdown",
        "../x.yaml": "the mapping file ../x.yaml is outside the folder a Markdown file may read",
        "link.yaml": f"the mapping file link.yaml is outside the folder a Markdown file may "
        f"read (its own folder {docs.resolve()})",
        # relative to the README's folder, not the current one
        "./m.yaml": f"mapping file {docs / 'm.yaml'} does not exist",
        "x": "no mapping named 'x'",  # a bare name is a shipped mapping's, never a file's
    }
    for name, message in cases.items():
        readme = _readme(docs, name)
        assert main(["explain", "--update-readme", str(readme), "--check"]) == 1, name
        err = capsys.readouterr().err
        assert f"{readme}:3: {message}" in err, err
        assert "TOP-SECRET" not in err, err
        assert "root:" not in err, err


def test_update_readme_reads_a_mapping_next_to_it_from_any_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    (docs / "maps").mkdir(parents=True)
    (docs / "maps" / "odd.yaml").write_text(ODD_MAPPING, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    readme = _readme(docs, "maps/odd.yaml")
    assert main(["explain", "--update-readme", str(readme)]) == 0
    capsys.readouterr()
    text = readme.read_text(encoding="utf-8")
    assert "#### `odd-shapes`" in text
    assert "old" not in text
    assert main(["explain", "--update-readme", "../docs/README.md", "--check"]) == 0
    assert "up to date" in capsys.readouterr().err


def test_update_readme_of_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "--update-readme", str(tmp_path / "none.md")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_cli_prints_markdown_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "cancelled-event-to-fulfillment"]) == 0
    out = capsys.readouterr().out
    assert out == to_markdown(load("cancelled-event-to-fulfillment").spec)
    assert main(["explain", "cancelled-event-to-fulfillment", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["target"] for row in data["fields"]] == [
        "orderId",
        "items",
        "items[].itemId",
        "items[].cancelQuantity",
    ]
    items = load("cancelled-event-to-fulfillment").spec.fields[1].kind
    assert data["fields"][1]["where"] == getattr(items, "where", None)


def test_cli_needs_a_mapping_or_a_readme(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:  # a usage error, as argparse's own: exit 2
        main(["explain"])
    assert done.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: fulfillmap explain ")
    assert captured.err.endswith(
        "fulfillmap explain: error: give a MAPPING to explain, or --update-readme FILE\n"
    )
