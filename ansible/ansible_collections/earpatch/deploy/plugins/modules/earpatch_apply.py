#!/usr/bin/python
# Copyright: earpatch developers
# Apache License 2.0 (see LICENSE at the root of the repository)
"""Ansible module earpatch_apply: apply an update to a Java EE application with earpatch."""

DOCUMENTATION = r"""
---
module: earpatch_apply
short_description: Apply an update to a Java EE application (EAR or expanded) with earpatch
version_added: "0.1.0"
description:
  - Runs C(earpatch apply APP UPDATE --format json) on the target and returns its document,
    whether anything changed, the restart impact, the history record and the digests.
  - The plan is computed first (C(earpatch apply --dry-run)); the update is applied only when
    the plan writes something, the application's digest is O(expect_digest) and the impact does
    not reach O(fail_on). A refusal writes nothing.
  - Idempotent. An application that already holds the update (every file of the plan
    C(unchanged)) is reported with C(changed=false) without writing, even when its digest is no
    longer O(expect_digest) (it moved on by this very update); give O(target_digest) to also
    check that it is then exactly the expected new content.
  - In check mode only the plan is computed; nothing is written, not even the state folder.
  - In diff mode the result holds C(diff), the changed paths before and after.
  - Needs the C(earpatch) binary on the target (see O(binary)).
author:
  - earpatch developers
extends_documentation_fragment:
  - earpatch.deploy.earpatch
  - earpatch.deploy.earpatch.writing
options:
  update:
    description:
      - The update on the target. Its kind comes from its name unless O(kind) says otherwise
        (C(.zip) partial, C(.ear) or a directory full, C(.war)/C(.jar)/C(.rar)/C(.sar) a module).
    type: path
    required: true
  kind:
    description:
      - What O(update) is. V(auto) lets earpatch decide from its name.
      - V(partial) is a zip of files at their full paths with delete lists (its name must end in C(.zip)).
      - V(full) replaces the whole application (C(--full)).
      - V(module) replaces or adds the module at O(module_uri) (C(--module)); without O(module_uri)
        the module is the one named like the file.
      - V(file) replaces or adds the one file at O(file_path) (C(--file)).
    type: str
    choices: [auto, partial, full, module, file]
    default: auto
  module_uri:
    description:
      - URI of the module a V(module) update replaces or adds (C(--module URI)), for example C(shop.war).
    type: str
  file_path:
    description:
      - Full path of the file a V(file) update writes (C(--file PATH)), for example C(shop.war/index.jsp).
    type: str
  context_root:
    description:
      - Context root of a web module a V(module) update adds (C(--context-root)).
    type: str
  classloader_policy:
    description:
      - The application's class loader policy (rule E1); V(single) turns module restarts into an
        application restart.
    type: str
    choices: [multiple, single]
  deployment_xml:
    description:
      - A WebSphere C(deployment.xml) to read the class loader policy from (C(--deployment-xml)).
    type: path
  dynamic_security:
    description:
      - Whether the security provider updates dynamically; V(false) passes C(--no-dynamic-security)
        (rule E2, module starts and restarts become application restarts), V(true)
        C(--dynamic-security). Unset, the configuration file or earpatch's default (true) decides.
    type: bool
  strict:
    description:
      - Refuse a plan with warnings (C(--strict)).
    type: bool
    default: false
  expect_digest:
    description:
      - Refuse unless the application's content digest is this one (C(sha256:...)), as
        C(earpatch inspect) prints it for the master copy. A node that drifted is refused before
        anything is written, and the result has C(drifted=true).
    type: str
  target_digest:
    description:
      - The digest the application has once the update is applied (the master after the update).
      - When the application already holds the update, it must have this digest, else the module
        fails (the node drifted after it was updated).
      - After a real apply, a different digest fails the task; the update stays in place, roll it
        back with M(earpatch.deploy.earpatch_rollback).
    type: str
  fail_on:
    description:
      - Refuse before writing when the plan's impact reaches this level. V(module) refuses a
        module start or restart or more, V(application) an application restart.
    type: str
    choices: [module, application]
  output:
    description:
      - Write the updated application to this path and leave O(app) untouched (C(-o)); no history
        is kept and the file is always written (C(changed=true)).
    type: path
notes:
  - Supports check mode and diff mode.
  - An expanded application whose previous apply was interrupted is refused by the plan; run
    C(earpatch recover APP) on it.
seealso:
  - module: earpatch.deploy.earpatch_info
  - module: earpatch.deploy.earpatch_rollback
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Apply the fix, refusing a node that drifted from the master
  earpatch.deploy.earpatch_apply:
    app: /opt/IBM/WebSphere/AppServer/profiles/AppSrv01/installedApps/cell01/shop.ear
    update: /var/tmp/shop-fix.zip
    expect_digest: sha256:867d626a2aac3d30f342cd1fe580fbfa9a5e250db03d30d5a1c3ecbd156939b2
  register: applied

- name: Restart what the impact calls for
  ansible.builtin.command: /opt/bin/restart-app shop
  when: applied.restart_application

- name: Replace one JSP, but never restart the application for it
  earpatch.deploy.earpatch_apply:
    app: /srv/apps/shop
    update: /var/tmp/index.jsp
    kind: file
    file_path: storefront.war/index.jsp
    fail_on: application

- name: Show what would change (run with --check --diff)
  earpatch.deploy.earpatch_apply:
    app: /srv/apps/shop
    update: /var/tmp/shop-fix.zip
  check_mode: true
"""

RETURN = r"""
changed:
  description: Whether the update wrote (or, in check mode, would write) anything.
  returned: always
  type: bool
outcome:
  description: C(applied), C(up-to-date) (nothing to write) or C(dry-run) (check mode).
  returned: success
  type: str
  sample: applied
impact:
  description: The strongest restart effect of the plan.
  returned: success
  type: str
  sample: restart-application
  choices: [none, hot, start-module, restart-module, restart-application]
restart_application:
  description: Whether the application must be restarted.
  returned: success
  type: bool
restart_modules:
  description: Modules (URIs) to restart; empty when the application restarts.
  returned: success
  type: list
  elements: str
  sample: [storefront.war]
start_modules:
  description: Modules (URIs) the update adds, to start; empty when the application restarts.
  returned: success
  type: list
  elements: str
record:
  description: The history record of the apply (C(id), C(status), C(rolls_back)); null when
    nothing was written, in check mode and with O(output).
  returned: success
  type: dict
  sample: {"id": "20261130_081919_shop-fix", "status": "applied", "rolls_back": null}
digest_before:
  description: The application's content digest before the update.
  returned: success
  type: str
  sample: sha256:867d626a2aac3d30f342cd1fe580fbfa9a5e250db03d30d5a1c3ecbd156939b2
digest_after:
  description: Its digest after the update; null in check mode.
  returned: success
  type: str
  sample: sha256:69a1a8292865dd4443e6496a423202bb384930d777632fbdef06a5d410db6745
changes:
  description: The changes that write something, one line each (C(op path (effect))).
  returned: success
  type: list
  elements: str
  sample: ["replace  lib/util.jar (restart-application)", "add      storefront.war/welcome.jsp (hot)"]
plan:
  description: The plan, an C(earpatch.plan/v1) document.
  returned: success
  type: dict
document:
  description: earpatch's document, C(earpatch.apply/v1) (C(earpatch.plan/v1) in check mode).
  returned: success
  type: dict
drifted:
  description: True when the module refused because the digest is not O(expect_digest)
    (or, for an application already holding the update, not O(target_digest)).
  returned: failure
  type: bool
error:
  description: earpatch's C(earpatch.error/v1) document when earpatch refused or failed.
  returned: failure
  type: dict
diff:
  description: In diff mode, the changed paths before and after.
  returned: success, in diff mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.earpatch.deploy.plugins.module_utils.earpatch import (
    POST_HOOK_FAILED,
    change_lines,
    changes_of,
    common_argument_spec,
    diff_of,
    error_line,
    find_binary,
    impact_fields,
    reaches,
    run,
    state_args,
    writing_args,
    writing_argument_spec,
)

UPDATE_FLAGS = ("kind", "module_uri", "file_path", "context_root")


def plan_args(params):
    """The arguments of `earpatch apply` that decide the plan (APP, UPDATE, kind, settings)."""
    args = ["apply", params["app"], params["update"]]
    kind = params["kind"]
    if kind == "full":
        args.append("--full")
    if kind == "module" and params["module_uri"]:
        args += ["--module", params["module_uri"]]
    if kind == "file":
        args += ["--file", params["file_path"]]
    if params["context_root"]:
        args += ["--context-root", params["context_root"]]
    if params["classloader_policy"]:
        args += ["--classloader-policy", params["classloader_policy"]]
    if params["deployment_xml"]:
        args += ["--deployment-xml", params["deployment_xml"]]
    if params["dynamic_security"] is not None:
        args.append("--dynamic-security" if params["dynamic_security"] else "--no-dynamic-security")
    if params["strict"]:
        args.append("--strict")
    return args


def check_params(module):
    """Refuse combinations earpatch would refuse, with the option names of this module."""
    params = module.params
    kind = params["kind"]
    if kind == "partial" and not params["update"].endswith(".zip"):
        module.fail_json(msg="kind=partial needs an update whose name ends in .zip: %s" % params["update"])
    if params["module_uri"] and kind != "module":
        module.fail_json(msg="module_uri is only for kind=module")
    if params["file_path"] and kind != "file":
        module.fail_json(msg="file_path is only for kind=file")
    if params["context_root"] and kind != "module":
        module.fail_json(msg="context_root is only for kind=module")


def main():
    argument_spec = dict(
        update=dict(type="path", required=True),
        kind=dict(type="str", default="auto", choices=["auto", "partial", "full", "module", "file"]),
        module_uri=dict(type="str"),
        file_path=dict(type="str"),
        context_root=dict(type="str"),
        classloader_policy=dict(type="str", choices=["multiple", "single"]),
        deployment_xml=dict(type="path"),
        dynamic_security=dict(type="bool"),
        strict=dict(type="bool", default=False),
        expect_digest=dict(type="str"),
        target_digest=dict(type="str"),
        fail_on=dict(type="str", choices=["module", "application"]),
        output=dict(type="path"),
    )
    argument_spec.update(common_argument_spec())
    argument_spec.update(writing_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("kind", "file", ["file_path"])],
    )
    check_params(module)
    params = module.params
    binary = find_binary(module)
    app = params["app"]
    expect = params["expect_digest"]
    target = params["target_digest"]
    args = plan_args(params)

    # 1. The plan, read only: no lock, no state folder, nothing written.
    _, plan, _ = run(module, binary, args + ["--dry-run"] + state_args(module) + writing_args(module))
    changes = changes_of(plan)
    digest = (plan.get("application") or {}).get("digest")
    result = dict(
        changed=False,
        outcome="dry-run",
        record=None,
        digest_before=digest,
        digest_after=None,
        changes=change_lines(changes),
        plan=plan,
        document=plan,
    )
    result.update(impact_fields(plan.get("impact")))

    # 2. Already holding the update: nothing to write (unless -o, which always writes).
    if not changes and not params["output"]:
        result.update(outcome="up-to-date", digest_after=digest)
        if target and digest != target:
            module.fail_json(
                msg="%s already holds the update but its digest %s is not the expected %s: "
                "it changed outside earpatch; nothing was written" % (app, digest, target),
                drifted=True,
                **result,
            )
        module.exit_json(**result)

    # 3. Refusals, before anything is written (the result without the documents, which the
    # plan's changes summarise).
    refused = {k: v for k, v in result.items() if k not in ("plan", "document")}
    if expect and digest != expect:
        module.fail_json(
            msg="%s: refused: its digest %s is not the expected %s (the application drifted "
            "from the master copy); nothing was written" % (app, digest, expect),
            drifted=True,
            **refused,
        )
    if params["fail_on"] and reaches(result["impact"], params["fail_on"]):
        module.fail_json(
            msg="%s: refused: the impact %s reaches fail_on=%s; nothing was written"
            % (app, result["impact"], params["fail_on"]),
            **refused,
        )

    if module._diff:
        result["diff"] = diff_of(changes, app, digest, params["update"])
    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)

    # 4. Apply; earpatch checks the digest again under its lock.
    real = list(args)
    if expect:
        real += ["--expect-digest", expect]
    if params["output"]:
        real += ["-o", params["output"]]
    real += state_args(module)
    rc, doc, err = run(module, binary, real + writing_args(module), ok_codes=(0, POST_HOOK_FAILED))
    result.update(
        outcome=doc.get("outcome"),
        changed=doc.get("outcome") == "applied",
        record=doc.get("record"),
        digest_before=doc.get("digest_before") or digest,
        digest_after=doc.get("digest_after"),
        plan=doc.get("plan") or plan,
        document=doc,
    )
    result.update(impact_fields(result["plan"].get("impact")))
    result["changes"] = change_lines(changes_of(result["plan"]))
    if rc == POST_HOOK_FAILED:
        module.fail_json(
            msg=error_line(err, "the post-apply hook failed; the update stays applied"), stderr=err, **result
        )
    if target and result["digest_after"] and result["digest_after"] != target:
        module.fail_json(
            msg="%s: applied as %s, but its digest %s is not the expected %s"
            % (app, (result["record"] or {}).get("id"), result["digest_after"], target),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
