# Copyright: earpatch developers
# Apache License 2.0 (see LICENSE at the root of the repository)
"""Shared code of the earpatch modules: running the binary, reading its JSON
documents (schemas in the repository's ``schemas/``), impacts and diffs.

It never decides what a module does; each module calls these helpers.
"""

import json

# Effects in increasing strength (earpatch.plan/v1 `effect`).
EFFECTS = ("none", "hot", "start-module", "restart-module", "restart-application")

# `fail_on` levels: the weakest effect that reaches each one (as `impact --fail-on`).
FAIL_ON = {"module": "start-module", "application": "restart-application"}

# How a change of `earpatch diff MASTER APP` reads as drift of APP.
DRIFT_OF_OP = {"replace": "modified", "add": "added", "delete": "deleted"}


def common_argument_spec():
    """The options every module shares (documented by the doc fragment earpatch.deploy.earpatch)."""
    return dict(
        app=dict(type="path", required=True),
        state_dir=dict(type="path"),
        binary=dict(type="path", default="earpatch"),
    )


def writing_argument_spec():
    """The options of the modules that write (doc fragment earpatch.deploy.earpatch.writing)."""
    return dict(
        config=dict(type="path"),
        hooks=dict(type="bool", default=True),
    )


def writing_args(module):
    """``--config FILE`` and ``--no-hooks`` as the module was given them."""
    args = ["--config", module.params["config"]] if module.params["config"] else []
    if not module.params["hooks"]:
        args.append("--no-hooks")
    return args


# Exit code of apply and rollback when the change was made and a post hook failed.
POST_HOOK_FAILED = 4


def error_line(err, default):
    """earpatch's ``error:`` line from stderr (hooks write their own output there too)."""
    lines = [line[len("error:") :].strip() for line in err.splitlines() if line.startswith("error:")]
    return lines[-1] if lines else err.strip() or default


def find_binary(module):
    """The earpatch binary: a path as given, else looked up on PATH."""
    binary = module.params["binary"]
    if "/" in binary:
        return binary
    return module.get_bin_path(binary, required=True)


def run(module, binary, args, ok_codes=(0,)):
    """Run ``earpatch ARGS --format json``; return ``(rc, document, stderr)``.

    A failing command prints `earpatch.error/v1` on stdout: when its exit code
    is not in ``ok_codes`` the module fails with earpatch's message, naming
    the command. A document that is not JSON fails the same way.
    """
    cmd = [binary] + list(args) + ["--format", "json"]
    rc, out, err = module.run_command(cmd, environ_update={"NO_COLOR": "1"})
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    if rc not in ok_codes:
        fail(module, cmd, rc, doc, err)
    if not isinstance(doc, dict):
        module.fail_json(
            msg="earpatch printed no JSON document (is %s an earpatch binary?)" % binary,
            cmd=cmd,
            rc=rc,
            stdout=out,
            stderr=err,
        )
    return rc, doc, err


def fail(module, cmd, rc, doc, err, **extra):
    """Fail with earpatch's own message (its error document when it printed one)."""
    if isinstance(doc, dict) and doc.get("schema") == "earpatch.error/v1":
        msg = doc.get("message") or err.strip()
        causes = doc.get("causes") or []
        if causes:
            msg = "%s: %s" % (msg, "; ".join(causes))
    else:
        msg = error_line(err, "earpatch exited with status %d" % rc)
    module.fail_json(msg=msg, cmd=cmd, rc=rc, error=doc, stderr=err, **extra)


def state_args(module):
    """``--state-dir DIR`` when the module was given one."""
    state_dir = module.params.get("state_dir")
    return ["--state-dir", state_dir] if state_dir else []


def effect_rank(effect):
    """Position of an effect in `EFFECTS` (unknown effects rank highest)."""
    try:
        return EFFECTS.index(effect)
    except ValueError:
        return len(EFFECTS)


def reaches(effect, fail_on):
    """Whether an impact effect reaches a `fail_on` level."""
    return effect_rank(effect) >= effect_rank(FAIL_ON[fail_on])


def changes_of(plan):
    """The changes of a plan that write something (op other than unchanged)."""
    return [c for c in (plan or {}).get("changes", []) if c.get("op") != "unchanged"]


def impact_fields(impact):
    """The impact of a plan as the modules return it."""
    impact = impact or {}
    return dict(
        impact=impact.get("effect", "none"),
        restart_application=bool(impact.get("restart_application")),
        restart_modules=list(impact.get("restart_modules") or []),
        start_modules=list(impact.get("start_modules") or []),
    )


def merge_impacts(impacts):
    """One impact for several plans applied in turn (a rollback's steps)."""
    effect = "none"
    restart_application = False
    restart_modules = []
    start_modules = []
    for impact in impacts:
        fields = impact_fields(impact)
        if effect_rank(fields["impact"]) > effect_rank(effect):
            effect = fields["impact"]
        restart_application = restart_application or fields["restart_application"]
        restart_modules += [m for m in fields["restart_modules"] if m not in restart_modules]
        start_modules += [m for m in fields["start_modules"] if m not in start_modules]
    if restart_application:
        restart_modules, start_modules = [], []
    return dict(
        impact=effect,
        restart_application=restart_application,
        restart_modules=restart_modules,
        start_modules=start_modules,
    )


def change_lines(changes):
    """One line per change: ``op path (effect)``, as the diff and reports show it."""
    return ["%-8s %s (%s)" % (c.get("op"), c.get("path"), c.get("effect")) for c in changes]


def diff_of(changes, app, digest_before, label):
    """Ansible's diff of a plan: the changed paths before and after.

    Before lists the paths replaced or deleted, after those added or replaced
    (a replaced path shows as removed and added again, with "(new content)").
    """
    before = []
    after = []
    for change in sorted(changes, key=lambda c: c.get("path", "")):
        path = change.get("path")
        op = change.get("op")
        if op in ("replace", "delete"):
            before.append(path)
        if op == "add":
            after.append(path)
        elif op == "replace":
            after.append("%s (new content)" % path)
    return dict(
        before_header="%s (%s)" % (app, digest_before or "digest not computed"),
        after_header="%s after %s" % (app, label),
        before="".join(line + "\n" for line in before),
        after="".join(line + "\n" for line in after),
    )


def drift_of_diff(plan):
    """Drifted files from the plan of ``earpatch diff MASTER APP``."""
    drifted = []
    for change in changes_of(plan):
        change_kind = DRIFT_OF_OP.get(change.get("op"), change.get("op"))
        if change.get("module"):
            change_kind = "module-" + change_kind
        drifted.append(dict(path=change.get("path"), change=change_kind))
    return sorted(drifted, key=lambda d: d["path"])
