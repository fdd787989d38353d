"""The HTML view: escaping and loading as pure tests, behaviour in headless Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmextract import extract
from llmextract.errors import InputError
from llmextract.render import ViewDocument, render_view, view_model
from llmextract.results import with_articles
from llmextract.testing import ScriptedServer
from tests.conftest import GOLD, SAMPLE, predictions_from_gold, run_cli, settings_for

HOSTILE = (
    '<script>window.PWNED = 1</script><img src=x onerror="window.PWNED = 2">\n\n'
    '"We will never give up," Mayor Elena Ruiz said. </script><b>bold?</b>'
)


@pytest.fixture
def documents(scripted_server: ScriptedServer) -> list[ViewDocument]:
    settings = settings_for(scripted_server.url)
    text = SAMPLE.read_text(encoding="utf-8")
    return [
        ViewDocument("harbour", text, extract(text, settings=settings)),
        ViewDocument("hostile", HOSTILE, extract(HOSTILE, settings=settings)),
        ViewDocument("failed", "Some text.", None, error="EndpointUnavailableError: down"),
    ]


def test_article_text_cannot_end_the_data_script(documents: list[ViewDocument]) -> None:
    html = render_view(documents, title="<title>")
    assert html.count("<script") == 2 and html.count("</script>") == 2
    assert "&lt;title&gt;" in html and "window.PWNED" in html  # present, but only as data
    assert "http://" not in html and "https://" not in html  # nothing to fetch


def test_results_are_paired_with_their_articles_by_hash(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = tmp_path / "a.json"
    done = run_cli("extract", str(article), "--base-url", scripted_server.url, "--model", "m",
                   "-o", str(result), "--html", str(tmp_path / "a.html"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "<mark" not in (tmp_path / "a.html").read_text()  # marks are drawn by the page
    [document] = with_articles(result, str(article))
    assert document.result is not None and document.result.quotes
    article.write_text("Another text entirely.", encoding="utf-8")
    with pytest.raises(InputError, match="sha256 differs"):
        with_articles(result, str(article))


def test_render_command_shows_a_batch_with_its_errors(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    text = SAMPLE.read_text(encoding="utf-8")
    lines = [json.dumps({"id": "one", "text": text}), "not json", json.dumps({"text": HOSTILE})]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cli("batch", str(source), "-o", str(output), "--base-url", scripted_server.url,
                   "--model", "m").returncode == 0  # fmt: skip
    done = run_cli("render", str(output), "--source", str(source), "-o", str(tmp_path / "v.html"))
    assert done.returncode == 0, done.stderr
    assert "3 documents" in done.stdout


# Headless Chromium: Debian's package, driven by Playwright's Python package.

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the [dev] extra")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1100, "height": 600})
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.errors = errors
        yield tab
        browser.close()


def open_view(page: Any, documents: list[ViewDocument], folder: Path) -> Path:
    path = folder / "view.html"
    path.write_text(render_view(documents), encoding="utf-8")
    page.goto(path.as_uri())
    return path


def test_highlights_sit_exactly_on_the_records_offsets(
    page: Any, documents: list[ViewDocument], tmp_path: Path
) -> None:
    open_view(page, documents, tmp_path)
    marks = page.eval_on_selector_all(
        "mark",
        "ms => ms.map(m => [m.dataset.spans, +m.dataset.start, +m.dataset.end, m.textContent])",
    )
    checked = 0
    for record in view_model(documents[0])["records"]:
        for span in record["spans"]:
            key = f"{record['id']}.{span['role']}"
            pieces = [m for m in marks if key in m[0].split()]
            assert pieces, key
            assert "".join(m[3] for m in pieces) == span["text"]
            assert (pieces[0][1], pieces[-1][2]) == (span["start"], span["end"])
            checked += 1
    assert checked >= 8
    text = page.eval_on_selector("#article", "a => a.textContent")
    assert text == documents[0].text  # the article, whole and unaltered
    page.screenshot(path=str(tmp_path / "view.png"), full_page=True)
    assert (tmp_path / "view.png").stat().st_size > 10_000
    assert page.errors == []


def test_clicking_a_record_scrolls_to_its_span_and_flashes_it(
    page: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    text = "Filler paragraph.\n\n" * 80 + SAMPLE.read_text(encoding="utf-8")
    result = extract(text, settings=settings_for(scripted_server.url))
    open_view(page, [ViewDocument("long", text, result)], tmp_path)
    target = page.locator('mark[data-spans*="stances-0."]').first
    before = target.bounding_box()
    assert before is not None and before["y"] > 600  # below the fold at first
    assert page.locator("mark.flash").count() == 0
    page.locator('aside li[data-rec="stances-0"]').click()
    flashing = page.locator("mark.flash")
    assert flashing.count() >= 1
    keys = flashing.evaluate_all("ms => ms.map(m => m.dataset.spans)")
    assert all(any(k.startswith("stances-0.") for k in spans.split()) for spans in keys)
    after = target.bounding_box()
    assert after is not None and 0 <= after["y"] <= 600  # scrolled into view
    assert page.locator("aside li.selected").count() == 1


def test_filters_by_task_event_type_and_speaker(
    page: Any, documents: list[ViewDocument], tmp_path: Path
) -> None:
    open_view(page, documents, tmp_path)
    assert page.locator("mark.q-content").count() > 0
    page.locator("#task-quotes").uncheck()
    assert page.locator("mark.q-content").count() == 0
    assert page.locator('aside ol[data-task="quotes"]').count() == 0
    page.locator("#task-quotes").check()
    speaker = page.locator("#speaker-filter option").nth(1).get_attribute("value")
    page.locator("#speaker-filter").select_option(speaker)
    labels = page.locator("aside ol:not(.dropped) li").all_inner_texts()
    assert labels and all(label.startswith(speaker) for label in labels)
    page.locator("#speaker-filter").select_option("")
    event_type = page.locator("#type-filter option").nth(1).get_attribute("value")
    page.locator("#type-filter").select_option(event_type)
    labels = page.locator("aside ol:not(.dropped) li").all_inner_texts()
    assert labels and all(label.startswith(f"{event_type}:") for label in labels)


def test_corrections_show_beside_their_record_not_as_dropped(
    page: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    from llmextract.choices import find_candidates
    from llmextract.testing import Reply

    text = SAMPLE.read_text(encoding="utf-8")
    offered = len(find_candidates("events", text))
    scripted_server.enqueue(Reply(arguments={"decisions": [{"type": 2}] * offered}))
    settings = settings_for(scripted_server.url, prompt_style="choose")
    result = extract(text, tasks=["events"], settings=settings)
    assert len(result.corrected) == len(result.events) == offered and result.dropped == []
    open_view(page, [ViewDocument("harbour", text, result)], tmp_path)
    assert page.locator("aside ol.dropped").count() == 0
    for index, event in enumerate(result.events):
        shown = page.locator(f'aside li[data-rec="events-{index}"] .correction').all_inner_texts()
        option = event.type or event.kind  # an untyped event's only option is its kind
        assert shown == [f"corrected: type option 2 was not offered; used option 1 ({option})"]
    page.locator('aside li[data-rec="events-1"]').click()  # the record still selects its spans
    assert page.locator("mark.flash").count() >= 1
    assert page.errors == []


def test_a_hostile_article_shows_as_text_and_runs_nothing(
    page: Any, documents: list[ViewDocument], tmp_path: Path
) -> None:
    open_view(page, documents, tmp_path)
    page.locator("#next").click()
    assert page.locator("#position").inner_text() == "2 / 3"
    assert page.evaluate("typeof window.PWNED") == "undefined"
    assert page.eval_on_selector("#article", "a => a.textContent") == HOSTILE
    assert page.locator("#article img, #article script, #article b").count() == 0
    page.locator("#doc-select").select_option("2")
    assert "EndpointUnavailableError" in page.locator("#status").inner_text()
    assert page.errors == []


def test_the_eval_report_charts_every_metric_and_marks_matches_misses_and_false_positives(
    page: Any, tmp_path: Path
) -> None:
    report, record = tmp_path / "report.html", tmp_path / "run.json"
    done = run_cli("eval", str(GOLD), "--system", "rules", "-o", str(record), "--html", str(report))
    assert done.returncode == 0, done.stderr
    run = json.loads(record.read_text())
    page.goto(report.as_uri())
    assert page.locator("#metrics rect.bar").count() == len(run["metrics"])
    assert page.locator("#metrics line.ci").count() == len(run["metrics"])
    options = page.locator("#doc-select option")
    assert options.count() == len(run["documents"])
    texts = {
        json.loads(line)["id"]: json.loads(line)["text"] for line in GOLD.read_text().splitlines()
    }
    misses = false_positives = 0
    for index in range(options.count()):
        page.locator("#doc-select").select_option(str(index))
        text = texts[run["documents"][index]["id"]]
        for side in ("gold", "pred"):
            pieces = page.eval_on_selector_all(
                f"#pair .{side} mark", "ms => ms.map(m => [m.dataset.spans, m.textContent])"
            )
            spans: dict[str, str] = {}  # span -> its text, put together from its pieces
            for keys, piece in pieces:
                for key in keys.split():
                    spans[key] = spans.get(key, "") + piece
            for key, joined in spans.items():
                task, _, status, start, end = key.split(":")
                assert text[int(start) : int(end)] == joined
                if task == "quotes":
                    misses += status == "miss"
                    false_positives += status == "fp"
    assert misses == run["metrics"]["quotes.content"]["fn"]
    assert false_positives == run["metrics"]["quotes.content"]["fp"]
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert page.errors == []


def test_the_compare_report_shows_each_delta_and_the_verdict(page: Any, tmp_path: Path) -> None:
    predictions_from_gold(tmp_path / "good.jsonl")
    predictions_from_gold(tmp_path / "bad.jsonl", keep=0.0)
    for name in ("good", "bad"):
        done = run_cli("eval", str(GOLD), "--pred", str(tmp_path / f"{name}.jsonl"), "-o",
                       str(tmp_path / f"{name}.json"))  # fmt: skip
        assert done.returncode == 0, done.stderr
    report = tmp_path / "diff.html"
    done = run_cli("compare", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--html",
                   str(report))  # fmt: skip
    assert done.returncode == 0, done.stderr
    page.goto(report.as_uri())
    rows = page.locator("#metrics table tr").count() - 1
    assert rows > 0 and page.locator("#metrics rect.bar").count() == rows
    assert "worse" in page.locator("#metrics table").inner_text()
    assert page.errors == []


def test_a_batch_of_thousands_of_documents_stays_navigable(
    page: Any, documents: list[ViewDocument], tmp_path: Path
) -> None:
    many = [ViewDocument(f"doc{i}", documents[0].text, documents[0].result) for i in range(3000)]
    open_view(page, many, tmp_path)
    assert page.locator("#doc-select option").count() == 3000
    assert page.locator("#article mark").count() > 0
    page.locator("#doc-select").select_option("2999")
    assert page.locator("#position").inner_text() == "3000 / 3000"
    # One document is drawn at a time, whatever the batch size.
    assert page.eval_on_selector("#article", "a => a.textContent") == documents[0].text
    assert page.errors == []
