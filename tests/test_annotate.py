"""framing annotate: the order, the refitted head, the labels file, the session, the web app's guards,
the Label Studio and Prodigy round trips and the CLI. The browser test is in test_annotate_browser.py."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

import numpy as np
import pandas as pd
import pytest

from framing.annotation.head import Refresher, refitted_probabilities
from framing.annotation.ordering import clusters, plan, uncertainty
from framing.annotation.session import AnnotationSession, NotCurrent, SessionOptions
from framing.annotation.store import LabelStore
from framing.errors import InputError
from tests.conftest import EXAMPLES, SEEDS

# -- ordering ---------------------------------------------------------------------------------------


def test_uncertainty_is_one_on_a_threshold_and_zero_when_certain_on_either_side():
    thresholds = np.array([0.2, 0.5])
    probabilities = np.array([[0.2, 0.0], [0.0, 1.0], [0.6, 0.0], [0.1, 0.0]])
    # row 3: frame 1 sits 0.4 above 0.2, a half of the 0.8 room above; row 4: 0.1 below 0.2, a half of the room below
    assert uncertainty(probabilities, thresholds) == pytest.approx([1.0, 0.0, 0.5, 0.5])


def test_plans_random_uncertain_and_diverse():
    probabilities = np.array([[0.9], [0.5], [0.05], [0.45], [0.7], [0.52]])
    thresholds = np.array([0.5])
    candidates = np.array([0, 1, 2, 3, 4, 5])
    shuffled = [p.index for p in plan("random", candidates, probabilities, thresholds, seed=1)]
    assert sorted(shuffled) == list(range(6)) and shuffled == [p.index for p in plan("random", candidates, probabilities, thresholds, seed=1)]
    uncertain = plan("uncertain", candidates, probabilities, thresholds)
    assert [p.index for p in uncertain] == [1, 5, 3, 4, 0, 2]
    assert uncertain[0].reason == "uncertain: 1.000 (model)"
    cluster_of = np.array([0, 0, 0, 0, 1, 1])  # cluster 0 is the larger: it goes first, then they alternate
    diverse = plan("diverse", candidates, probabilities, thresholds, cluster_of, source="head refitted on 3 answers")
    assert [p.index for p in diverse] == [1, 5, 3, 4, 0, 2]
    assert diverse[1].reason == "diverse: cluster 1, uncertainty 0.960 (head refitted on 3 answers)"
    assert [p.index for p in plan("uncertain", np.array([0, 2, 4]), probabilities, thresholds)] == [4, 0, 2]
    with pytest.raises(ValueError, match="unknown order"):
        plan("alphabetical", candidates, probabilities, thresholds)


def test_clusters_separate_distinct_groups_of_embeddings():
    rng = np.random.default_rng(0)
    embeddings = np.vstack([rng.normal(0, 0.01, (5, 3)) + [1, 0, 0], rng.normal(0, 0.01, (4, 3)) + [0, 1, 0]])
    found = clusters(embeddings)  # 9 passages: k = 3 at most, and the two groups never share a cluster
    assert set(found[:5]).isdisjoint(found[5:])
    assert clusters(embeddings[:3]).tolist() == [0, 0, 0]


# -- the refitted head ------------------------------------------------------------------------------


def test_the_head_moves_probabilities_towards_the_answers_and_keeps_one_sided_frames():
    rng = np.random.default_rng(0)
    embeddings = np.vstack([rng.normal(0, 0.1, (10, 4)) + [2, 0, 0, 0], rng.normal(0, 0.1, (10, 4)) + [0, 2, 0, 0]])
    model = np.full((20, 2), 0.5)
    answered = np.array([0, 1, 2, 10, 11, 12])
    Y = np.array([[1, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0]])  # frame 1 is never given: kept as the model has it
    blended = refitted_probabilities(embeddings, model, answered, Y)
    weight = 6 / (6 + 20)
    assert blended[3:10, 0].min() > 0.5 and blended[13:, 0].max() < 0.5
    assert blended[:, 0].max() <= 0.5 + weight and blended[:, 0].min() >= 0.5 - weight
    assert np.array_equal(blended[:, 1], model[:, 1])
    assert np.array_equal(refitted_probabilities(embeddings, model, np.array([], dtype=int), np.zeros((0, 2))), model)


def test_refresher_fits_in_a_thread_and_reports_a_failure():
    results = []
    release = threading.Event()

    def compute():
        release.wait(5)
        return len(results)

    refresher = Refresher(compute, results.append)
    refresher.request()
    assert not refresher.wait(0.2)  # the caller is not blocked by a running fit
    refresher.request()  # arrives during the fit: one more fit after it
    release.set()
    assert refresher.wait(5) and results[-1] == len(results) - 1 and refresher.fits == len(results) >= 2
    failing = Refresher(lambda: 1 / 0, results.append)
    failing.request()
    assert failing.wait(5) and isinstance(failing.error, ZeroDivisionError) and failing.fits == 0


# -- the labels file --------------------------------------------------------------------------------


def test_store_appends_resumes_drops_a_torn_line_and_undoes(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    for i in range(3):
        store.append({"id": f"a:{i}", "labels": ["economic"] if i else []})
    assert store.undo()["id"] == "a:2"
    store.append({"id": "a:3", "labels": []})  # written where the undone line was
    store.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a:0", "a:1", "a:3"]
    with path.open("ab") as handle:
        handle.write(b'{"id": "a:4", "lab')  # a server killed in mid-write
    resumed = LabelStore(path)
    assert resumed.answered_ids == {"a:0", "a:1", "a:3"} and path.read_bytes().endswith(b"\n")
    assert resumed.undo()["id"] == "a:3" and resumed.undo()["id"] == "a:1"
    resumed.close()
    assert len(path.read_text().splitlines()) == 1
    path.write_text('{"id": "x", "labels": []}\n["not", "a", "row"]\n')
    with pytest.raises(InputError, match="labels.jsonl:line 2: not a labeled row"):
        LabelStore(path)


# -- the session ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(default_model):
    from framing import api

    return api.annotation_passages(SEEDS, default_model)


def _session(scored, model, path, **options) -> AnnotationSession:
    passages, embeddings = scored
    return AnnotationSession(passages, model.codebook, model.thresholds, LabelStore(path), SessionOptions(annotator="tester", model_name="m", **options), embeddings)


def test_passages_carry_article_context_and_the_models_probabilities(scored, default_model):
    passages, embeddings = scored
    assert len(passages) == 27 and embeddings.shape == (27, 384)
    assert passages["id"].is_unique and passages.loc[0, "id"] == "editorial:0"
    editorial = passages[passages["article_id"] == "editorial"]
    assert set(editorial["title"]) == {"Peru Severs Diplomatic Ties with Mexico Over Asylum"} and set(editorial["kind"]) == {"editorial"}
    expected = default_model.predict_proba(passages["text"].tolist()[:3])
    assert passages[default_model.codebook.probability_columns].to_numpy()[:3] == pytest.approx(expected, abs=1e-4)


def test_a_passage_table_from_score_is_annotated_like_the_articles(default_model, tmp_path, run_cli, scored):
    from framing import api
    from framing.annotation.source import is_passage_table

    table = tmp_path / "passages.csv"
    assert run_cli("score", *SEEDS, "--passages", table, "-o", tmp_path / "mixes.csv").exit_code == 0
    assert is_passage_table([table]) and not is_passage_table([EXAMPLES / "metadata.csv"]) and not is_passage_table(SEEDS)
    from_table, embeddings = api.annotation_passages([table], default_model, embed=False)
    assert embeddings is None
    assert from_table["id"].tolist() == scored[0]["id"].tolist() and from_table["text"].tolist() == scored[0]["text"].tolist()
    columns = default_model.codebook.probability_columns
    assert from_table[columns].to_numpy() == pytest.approx(scored[0][columns].to_numpy(), abs=1e-4)


def test_answers_are_written_with_who_how_long_and_why_then_resumed(scored, default_model, tmp_path):
    path = tmp_path / "labels.jsonl"
    session = _session(scored, default_model, path, order="uncertain")
    first = session.state()
    shown = first["passage"]
    assert first["progress"] == {"done": 0, "left": 27, "skipped": 0, "counts": {"sovereignty": 0, "humanitarian": 0, "ideological-bloc": 0, "economic": 0, "none": 0}}
    assert shown["selected_by"].startswith("uncertain: ") and set(shown["suggestion"]) == set(default_model.codebook.frame_names)
    index = int(shown["passage_index"])
    assert (shown["before"] is None) == (index == 0) and shown["after"] is not None or index > 0
    with pytest.raises(NotCurrent):
        session.answer("editorial:99", [], 1.0)
    with pytest.raises(ValueError, match="unknown frame 'war'"):
        session.answer(shown["id"], ["war"], 1.0)
    after = session.answer(shown["id"], ["economic", "sovereignty"], 2.345)
    row = json.loads(path.read_text())
    assert row["id"] == shown["id"] and row["labels"] == ["sovereignty", "economic"]  # codebook order
    assert row["story"] == row["article_id"] == shown["article_id"] and row["annotator"] == "tester" and row["seconds"] == 2.35
    assert row["selected_by"] == shown["selected_by"] and row["source"] == "annotated" and row["blind"] is False
    assert after["progress"]["done"] == 1 and after["progress"]["counts"]["economic"] == 1 and after["passage"]["id"] != shown["id"]
    skipped = after["passage"]["id"]
    after_skip = session.skip(skipped)
    assert after_skip["progress"]["skipped"] == 1 and after_skip["passage"]["id"] != skipped
    assert session.undo()["passage"]["id"] == skipped  # the skip is taken back
    session.answer(skipped, [], 1.0)
    session.refresher.wait(30)
    session.store.close()

    resumed = _session(scored, default_model, path, order="uncertain")
    assert resumed.refresher.wait(30) and resumed.state()["order"]["source"] == "head refitted on 2 answers"  # the order starts from the file's answers
    state = resumed.state()
    assert state["progress"]["done"] == 2 and state["progress"]["left"] == 25 and state["progress"]["counts"]["none"] == 1
    asked = set()
    while resumed.state()["passage"]:
        current = resumed.state()["passage"]["id"]
        asked.add(current)
        resumed.answer(current, [], 0.5)
    assert asked.isdisjoint({shown["id"], skipped}) and len(asked) == 25
    assert resumed.state()["progress"]["left"] == 0
    assert resumed.undo()["passage"]["id"] in asked  # the last answer comes back
    resumed.refresher.wait(30)
    resumed.store.close()
    assert len(path.read_text().splitlines()) == 26


def test_undo_in_a_resumed_session_takes_back_the_files_last_answer(scored, default_model, tmp_path):
    path = tmp_path / "labels.jsonl"
    session = _session(scored, default_model, path, order="random")
    shown = session.state()["passage"]["id"]
    session.answer(shown, ["humanitarian"], 1.0)
    session.store.close()
    resumed = _session(scored, default_model, path, order="random")
    assert resumed.state()["can_undo"] and resumed.undo()["passage"]["id"] == shown and path.read_text() == ""
    assert resumed.undo()["passage"]["id"] == shown  # nothing more to undo: the same passage stays
    resumed.store.close()


def test_blind_hides_the_suggestion_and_the_order_follows_the_answers(scored, default_model, tmp_path):
    session = _session(scored, default_model, tmp_path / "blind.jsonl", order="diverse", blind=True)
    assert session.state()["passage"]["suggestion"] is None and session.state()["passage"]["selected_by"].startswith("diverse: cluster ")
    for i in range(6):  # two answers with economic and four without: the head is fitted for that frame
        session.answer(session.state()["passage"]["id"], ["economic"] if i < 2 else [], 1.0)
    assert session.refresher.wait(30) and session.refresher.error is None
    order = session.state()["order"]
    assert order["source"] == "head refitted on 6 answers" and order["fits"] >= 1
    # The passage on screen keeps the reason it was picked for; the next one comes from the refreshed order.
    assert session.skip(session.state()["passage"]["id"])["passage"]["selected_by"].endswith("(head refitted on 6 answers)")
    assert json.loads((tmp_path / "blind.jsonl").read_text().splitlines()[0])["blind"] is True
    session.store.close()


# -- the web app ------------------------------------------------------------------------------------


@pytest.fixture
def server(scored, default_model, tmp_path):
    import uvicorn

    from framing.annotation.web import bind, create_app

    session = _session(scored, default_model, tmp_path / "web.jsonl", order="random")
    sock = bind(0)
    app_server = uvicorn.Server(uvicorn.Config(create_app(session, "secret-token"), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=app_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not app_server.started:
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", session
    app_server.should_exit = True
    thread.join(10)
    session.store.close()


def _request(url: str, body: bytes | None = None, token: str | None = "secret-token") -> tuple[int, dict | str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Framing-Token"] = token
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read().decode()
    try:
        return status, json.loads(payload)
    except json.JSONDecodeError:
        return status, payload


def test_the_app_serves_only_with_the_session_token(server):
    base, session = server
    assert _request(base + "/")[0] == 403 and _request(base + "/?token=wrong")[0] == 403
    status, page = _request(base + "/?token=secret-token")
    assert status == 200 and 'src="static/app.js"' in page and "http" not in page.split("<body>")[0]  # nothing from elsewhere
    assert _request(base + "/static/app.js")[0] == 200 and _request(base + "/static/secrets.txt")[0] == 404
    assert _request(base + "/api/state", token=None)[0] == 403 and _request(base + "/api/state", token="wrong")[0] == 403
    shown = session.state()["passage"]["id"]
    assert _request(base + "/api/answer", json.dumps({"id": shown, "labels": []}).encode(), token="wrong")[0] == 403
    assert session.state()["progress"]["done"] == 0


def test_the_app_answers_and_refuses_bad_requests(server):
    base, session = server
    status, codebook = _request(base + "/api/codebook")
    assert status == 200 and [f["key"] for f in codebook["frames"]] == ["1", "2", "3", "4"] and codebook["frames"][0]["definition"]
    shown = _request(base + "/api/state")[1]["passage"]["id"]
    assert _request(base + "/api/answer", b"not json")[0] == 400
    assert _request(base + "/api/answer", json.dumps({"id": shown, "labels": "economic"}).encode())[0] == 400
    status, refused = _request(base + "/api/answer", json.dumps({"id": "wire-a:99", "labels": []}).encode())
    assert status == 409 and refused["state"]["passage"]["id"] == shown
    status, after = _request(base + "/api/answer", json.dumps({"id": shown, "labels": ["economic"], "seconds": 4}).encode())
    assert status == 200 and after["progress"]["done"] == 1
    assert _request(base + "/api/answer", json.dumps({"id": shown, "labels": []}).encode())[0] == 409  # the same answer posted twice
    assert _request(base + "/api/undo", b"{}")[1]["passage"]["id"] == shown and session.state()["progress"]["done"] == 0


def test_page_sets_text_never_markup():
    from importlib import resources

    script = resources.files("framing.annotation").joinpath("static", "app.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "textContent" in script


# -- Label Studio and Prodigy -----------------------------------------------------------------------


def test_label_studio_round_trip(run_cli, tmp_path, default_model):
    tasks_file = tmp_path / "tasks.json"
    result = run_cli("annotate", *SEEDS, "--export", "label-studio", tasks_file, "--order", "uncertain")
    assert result.exit_code == 0, result.stderr
    tasks = json.loads(tasks_file.read_text())
    assert len(tasks) == 27 and tasks[0]["data"]["passage_id"] and tasks[0]["data"]["text"]
    prediction = tasks[0]["predictions"][0]
    assert prediction["model_version"] == default_model.folder.name
    [choice] = prediction["result"]
    assert (choice["from_name"], choice["to_name"], choice["type"]) == ("frames", "text", "choices")
    passages = pd.DataFrame([t["data"] for t in tasks])
    expected = default_model.predict(passages["text"].tolist()[:5])
    for task, row in zip(tasks, expected):
        assert task["predictions"][0]["result"][0]["value"]["choices"] == [n for n, hit in zip(default_model.codebook.frame_names, row) if hit]
    config = ElementTree.fromstring((tmp_path / "tasks.label-config.xml").read_text())
    choices = config.find("Choices")
    assert choices.get("name") == "frames" and choices.get("toName") == "text" and choices.get("choice") == "multiple"
    assert [c.get("value") for c in choices] == default_model.codebook.frame_names

    # What Label Studio's JSON export gives back: the tasks with annotations (one cancelled).
    for i, task in enumerate(tasks[:4]):
        task["id"] = i + 1
        task["annotations"] = [{"result": [{"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["humanitarian"] if i else []}}],
                                "completed_by": {"id": 3, "email": "ana@example.org"}, "lead_time": 3.5, "was_cancelled": i == 3}]
    export = tmp_path / "project-1-export.json"
    export.write_text(json.dumps(tasks))
    output = tmp_path / "imported.jsonl"
    result = run_cli("corpus", "import", export, "--output", output)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["id"] for r in rows] == [t["data"]["passage_id"] for t in tasks[:3]]
    assert [r["labels"] for r in rows] == [[], ["humanitarian"], ["humanitarian"]]
    assert rows[0]["annotator"] == "label-studio:ana@example.org" and rows[0]["seconds"] == 3.5 and rows[0]["story"] == tasks[0]["data"]["article_id"]
    assert run_cli("corpus", "check", output).exit_code == 0


def test_prodigy_round_trip(run_cli, tmp_path, default_model):
    tasks_file = tmp_path / "tasks.jsonl"
    labels = tmp_path / "done.jsonl"
    labels.write_text(json.dumps({"id": "editorial:0", "labels": []}) + "\n")  # already answered in framing: not exported
    result = run_cli("annotate", *SEEDS, "--export", "prodigy", tasks_file, "--labels", labels, "--order", "diverse")
    assert result.exit_code == 0, result.stderr
    tasks = [json.loads(line) for line in tasks_file.read_text().splitlines()]
    assert len(tasks) == 26 and "editorial:0" not in {t["meta"]["passage_id"] for t in tasks}
    assert [o["id"] for o in tasks[0]["options"]] == default_model.codebook.frame_names and tasks[0]["config"] == {"choice_style": "multiple"}
    p = np.array([[t["meta"][f"p_{n}"] for n in default_model.codebook.frame_names] for t in tasks])
    assert [t["accept"] for t in tasks] == [[n for n, v, th in zip(default_model.codebook.frame_names, row, default_model.thresholds) if v >= th] for row in p]

    answers = ["accept", "reject", "ignore", "accept"]
    for task, answer in zip(tasks, answers):
        task.update(answer=answer, _annotator_id="news-ana", accept=["sovereignty", "economic"])
    export = tmp_path / "db-out.jsonl"
    export.write_text("\n".join(json.dumps(t) for t in tasks[:4]) + "\n")
    output = tmp_path / "imported.csv"
    result = run_cli("corpus", "import", export, "-o", output, "--from", "prodigy")
    assert result.exit_code == 0, result.stderr
    from framing.corpus import load_corpus

    imported = load_corpus(output)
    assert imported["id"].tolist() == [tasks[0]["meta"]["passage_id"], tasks[3]["meta"]["passage_id"]]
    assert imported["labels"].tolist() == [["sovereignty", "economic"]] * 2 and set(imported["annotator"]) == {"prodigy:news-ana"}


def test_import_refuses_unknown_frames_and_unanswered_tasks(run_cli, tmp_path):
    export = tmp_path / "x.jsonl"
    export.write_text(json.dumps({"text": "A passage.", "accept": ["war"], "answer": "accept"}) + "\n")
    result = run_cli("corpus", "import", export, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2 and "unknown frame 'war'" in result.stderr
    export.write_text(json.dumps({"text": "A passage.", "accept": []}) + "\n")
    result = run_cli("corpus", "import", export, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2 and "no answer; export the annotations with `prodigy db-out" in result.stderr
    export.write_text("text,labels\n")
    assert "neither a Label Studio JSON export" in run_cli("corpus", "import", export, "-o", tmp_path / "out.jsonl").stderr


# -- the CLI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["annotate", str(EXAMPLES)], "give --labels FILE.jsonl"),
    (["annotate", str(EXAMPLES), "--labels", "labels.csv"], "the labels file is JSONL"),
    (["annotate", str(EXAMPLES), "--labels", "l.jsonl", "--order", "alphabetical"], "Invalid value for '--order'"),
    (["annotate", str(EXAMPLES), "--export", "doccano", "t.json"], "Invalid value for '--export'"),
    (["corpus", "import", "x.json"], "Missing option '--output'"),
])
def test_annotate_usage_errors_exit_2(run_cli, args, message):
    result = run_cli(*args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_a_taken_port_is_a_clear_error(run_cli, tmp_path):
    from framing.annotation.web import bind

    taken = bind(0)
    try:
        result = run_cli("annotate", *SEEDS, "--labels", tmp_path / "l.jsonl", "--port", taken.getsockname()[1], "--no-browser")
    finally:
        taken.close()
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.stderr


def test_the_labels_file_is_checked_and_trained_on_with_articles_as_groups(scored, default_model, tmp_path, run_cli):
    path = tmp_path / "all.jsonl"
    session = _session(scored, default_model, path, order="random")
    while session.state()["passage"]:
        shown = session.state()["passage"]
        session.answer(shown["id"], [n for n, p in shown["suggestion"].items() if p >= 0.5], 1.0)
    session.store.close()
    assert run_cli("corpus", "check", path).exit_code == 0
    from framing.corpus import load_corpus

    corpus = load_corpus(path)
    assert sorted(corpus["story"].unique()) == ["editorial", "wire-a", "wire-b"] and set(corpus["register"]) == {"editorial", "wire"}
    result = run_cli("train", "--data", path, "--model", "tfidf", "--folds", "0", "--no-promote", "--models-dir", tmp_path / "models")
    assert result.exit_code == 0, result.stderr
    [folder] = (tmp_path / "models").iterdir()
    assert json.loads((folder / "model.json").read_text())["card"]["n_train"] == 27


def test_any_codebook_with_a_model_trained_for_it(scored, tmp_path, run_cli):
    from framing import api
    from framing.codebook import load_codebook
    from framing.models import load_model, make_model

    path = tmp_path / "two-frames.toml"
    path.write_text('name = "trade-or-rights"\nversion = "0.1"\nnone_definition = "Neither."\n'
                    '[[frames]]\nname = "trade"\ndefinition = "Commerce, exports, jobs & <markets>."\n'
                    '[[frames]]\nname = "rights"\ndefinition = "People\'s safety and rights."\nexcludes = ["states\' legal manoeuvres"]\n')
    codebook = load_codebook(path)
    passages, _ = scored
    Y = np.column_stack([passages["p_economic"] >= 0.3, passages["p_humanitarian"] >= 0.3]).astype(int)
    folder = make_model("tfidf", codebook).fit(passages["text"].tolist(), Y, groups=passages["article_id"].to_numpy()).save(tmp_path / "model")
    model = load_model(folder, codebook=codebook)
    session = api.annotation_session(SEEDS, tmp_path / "labels.jsonl", model, order="diverse", annotator="ana")
    view = session.codebook_view()
    assert view["name"] == "trade-or-rights" and [(f["key"], f["name"]) for f in view["frames"]] == [("1", "trade"), ("2", "rights")]
    assert view["frames"][0]["definition"] == "Commerce, exports, jobs & <markets>." and view["frames"][1]["excludes"] == ["states' legal manoeuvres"]
    shown = session.state()["passage"]
    assert set(shown["suggestion"]) == {"trade", "rights"}
    session.answer(shown["id"], ["rights"], 1.0)
    session.store.close()
    assert run_cli("corpus", "check", tmp_path / "labels.jsonl", "--codebook", path).exit_code == 0
    assert run_cli("corpus", "check", tmp_path / "labels.jsonl").exit_code == 2  # 'rights' is no frame of the default codebook
    result = run_cli("annotate", *SEEDS, "--export", "prodigy", tmp_path / "tasks.jsonl", "--model", folder, "--codebook", path)
    assert result.exit_code == 0, result.stderr
    assert [o["id"] for o in json.loads((tmp_path / "tasks.jsonl").read_text().splitlines()[0])["options"]] == ["trade", "rights"]
