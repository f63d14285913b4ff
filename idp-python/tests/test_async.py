"""The async face for real: progress as it happens, cancellation of an asyncio task (the run is
recorded as cancelled and resume finishes it), a token cancelled from another thread, and
idp.aio after fork()."""

import asyncio
import os
import threading

import pytest

import idp
from conftest import ALICE, request


def test_progress_reaches_a_sync_callback_while_the_run_is_under_way(platform):
    events = []
    receipt = platform.run_golden_path(request(), progress=events.append)
    assert receipt.status == "completed"
    messages = [e["message"] for e in events]
    assert any("started" in m for m in messages) and any("completed" in m for m in messages)
    steps = [e["step"] for e in events if e["step"]]
    assert steps.index("bootstrap_service") < steps.index("attach_observability")
    assert all(e["run_id"] == receipt.run_id for e in events if e["run_id"])


def test_results_are_typed_classes_generated_from_the_core(platform):
    r = platform.run_golden_path(request())
    assert type(r) is idp.Receipt and isinstance(r, idp.Record)
    step = r.steps[0]
    assert type(step) is idp.StepReceipt
    assert type(step.change_request) is idp.ChangeRequestRef
    assert type(step.artifacts[0]) is idp.Artifact
    assert idp.Receipt.steps.fget.__annotations__["return"] == "List[StepReceipt]"
    up = platform.upgrade_plan(service="payments-api", as_="user:default/pat")
    assert type(up) is idp.UpgradeResult and up.from_ == up["from"]


def test_aio_progress_arrives_on_the_event_loop(workspace):
    async def main():
        p = idp.aio.Platform.default(workspace=workspace, as_=ALICE)
        loop_thread = threading.get_ident()
        seen = []
        receipt = await p.run_golden_path(
            request(), progress=lambda ev: seen.append((threading.get_ident(), ev["message"]))
        )
        await asyncio.sleep(0)  # let the last queued callbacks run
        return receipt, seen, loop_thread

    receipt, seen, loop_thread = asyncio.run(main())
    assert isinstance(receipt, idp.Receipt) and receipt.steps[0].step == "bootstrap_service"
    assert seen and all(t == loop_thread for t, _ in seen)


def test_cancelling_the_asyncio_task_cancels_the_run_and_resume_finishes_it(workspace):
    async def main():
        p = idp.aio.Platform.default(workspace=workspace, as_=ALICE)
        task = asyncio.create_task(p.run_golden_path(request()))
        await asyncio.sleep(0)  # the task starts the run and waits for it
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The run stops at its next safe point and is recorded as cancelled.
        for _ in range(500):
            runs = await p.runs()
            if runs and runs[0].status != "running":
                break
            await asyncio.sleep(0.01)
        run = runs[0]
        assert run.status == "cancelled", run
        assert "attach_observability" not in run.steps_completed
        resumed = await p.resume(run_id=run.run_id)
        assert resumed.status == "completed" and resumed.run_id == run.run_id
        again = await p.run_golden_path(request())
        commits = lambda r: [s.change_request and s.change_request.commit for s in r.steps]
        assert commits(again) == commits(resumed), "resume reached the end state"

    asyncio.run(main())


def test_a_cancel_token_stops_a_sync_call_at_the_next_step(platform):
    token = idp.CancelToken()

    def on_progress(ev):
        # The callback runs on the core's thread, in the middle of the run.
        if ev["step"] == "wire_ci":
            token.cancel()

    with pytest.raises(idp.CancelledError) as e:
        platform.run_golden_path(request(), progress=on_progress, cancel=token)
    assert e.value.retryable is True
    run_id = e.value.context["run"]
    assert platform.runs()[0].status == "cancelled"
    assert platform.resume(run_id=run_id).status == "completed"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_aio_works_in_a_child_after_fork(workspace):
    p = idp.aio.Platform.default(workspace=workspace, as_=ALICE)
    asyncio.run(p.run_golden_path(request("before-fork")))
    pid = os.fork()
    if pid == 0:  # the child: its own runtime and platform, the same workspace
        code = 1
        try:
            r = asyncio.run(p.run_golden_path(request("in-the-child")))
            code = 0 if r.status == "completed" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent goes on working with its own runtime.
    r = asyncio.run(p.run_golden_path(request("after-fork")))
    assert r.status == "completed"
    names = {row.service for row in asyncio.run(p.fleet())}
    assert {"before-fork", "in-the-child", "after-fork"} <= names
