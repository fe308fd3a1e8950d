#!/usr/bin/python
# Copyright: earpatch developers
# Apache License 2.0 (see LICENSE at the root of the repository)
"""Ansible module earpatch_rollback: undo updates applied by earpatch."""

DOCUMENTATION = r"""
---
module: earpatch_rollback
short_description: Roll back updates that earpatch applied to a Java EE application
version_added: "0.1.0"
description:
  - Runs C(earpatch rollback APP --format json) on the target, undoing the newest applied update
    (or, with O(to), every update applied after one) with its undo bundle, and returns the
    restart impact of the rollback and the digests.
  - With O(record), rolls back exactly that update, which must be the newest in force; when it is
    no longer in force the module reports C(changed=false). A rolling update uses this to undo
    only what it applied on the node.
  - Without O(record) and O(to), an application with no update in force reports C(changed=false).
  - In check mode runs C(earpatch rollback --dry-run) and reports what would change.
  - Rollback refuses when the application changed outside earpatch since the update (its digest
    differs from the recorded one), unless O(force=true).
author:
  - earpatch developers
extends_documentation_fragment:
  - earpatch.deploy.earpatch
  - earpatch.deploy.earpatch.writing
options:
  record:
    description:
      - The id of the update to roll back (as C(earpatch_apply) returned it in C(record.id)). It
        must be the newest update in force.
    type: str
  to:
    description:
      - Roll back every update applied after this id, newest first, leaving it applied (C(--to)).
    type: str
  force:
    description:
      - Roll back even if the application changed outside earpatch since the update (C(--force)).
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
seealso:
  - module: earpatch.deploy.earpatch_apply
  - module: earpatch.deploy.earpatch_info
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Undo the update this play applied
  earpatch.deploy.earpatch_rollback:
    app: /srv/apps/shop
    record: "{{ applied.record.id }}"
  register: undone

- name: Restart the application if the rollback calls for it
  ansible.builtin.command: /opt/bin/restart-app shop
  when: undone.restart_application

- name: Go back to the state after a given update
  earpatch.deploy.earpatch_rollback:
    app: /opt/apps/shop.ear
    to: 20261121_193005_shop-fix
"""

RETURN = r"""
changed:
  description: Whether the rollback wrote (or, in check mode, would write) anything.
  returned: always
  type: bool
rolled_back:
  description: Ids of the updates rolled back (or that would be), newest first.
  returned: success
  type: list
  elements: str
records:
  description: The history records of the rollback steps (C(id), C(status), C(rolls_back)).
  returned: success
  type: list
  elements: dict
impact:
  description: The strongest restart effect over the steps.
  returned: success
  type: str
  sample: restart-application
restart_application:
  description: Whether the application must be restarted.
  returned: success
  type: bool
restart_modules:
  description: Modules (URIs) to restart; empty when the application restarts.
  returned: success
  type: list
  elements: str
start_modules:
  description: Modules (URIs) to start; empty when the application restarts.
  returned: success
  type: list
  elements: str
digest_before:
  description: The digest before the first step.
  returned: success
  type: str
digest_after:
  description: The digest after the last step; null in check mode.
  returned: success
  type: str
document:
  description: earpatch's C(earpatch.rollback/v1) document; null when there was nothing to do.
  returned: success
  type: dict
error:
  description: earpatch's C(earpatch.error/v1) document when earpatch refused or failed.
  returned: failure
  type: dict
diff:
  description: In diff mode, the paths the rollback changes, before and after.
  returned: success, in diff mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.earpatch.deploy.plugins.module_utils.earpatch import (
    POST_HOOK_FAILED,
    changes_of,
    common_argument_spec,
    diff_of,
    error_line,
    find_binary,
    merge_impacts,
    run,
    state_args,
    writing_args,
    writing_argument_spec,
)


def main():
    argument_spec = dict(
        record=dict(type="str"),
        to=dict(type="str"),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(common_argument_spec())
    argument_spec.update(writing_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("record", "to")],
    )
    params = module.params
    binary = find_binary(module)
    app = params["app"]

    _, status, _ = run(module, binary, ["status", app] + state_args(module))
    in_force = [u.get("id") for u in status.get("in_force", [])]
    nothing = dict(
        changed=False,
        rolled_back=[],
        records=[],
        digest_before=status.get("digest"),
        digest_after=status.get("digest"),
        document=None,
    )
    nothing.update(merge_impacts([]))
    if params["record"]:
        if params["record"] not in in_force:
            module.exit_json(msg="%s is not in force: nothing to roll back" % params["record"], **nothing)
        if in_force[-1] != params["record"]:
            module.fail_json(
                msg="%s: %s is not the newest update in force (%s is); nothing was written"
                % (app, params["record"], in_force[-1]),
                in_force=in_force,
            )
    elif params["to"]:
        if params["to"] in in_force and in_force[-1] == params["to"]:
            module.exit_json(msg="no update applied after %s: nothing to roll back" % params["to"], **nothing)
    elif not in_force:
        module.exit_json(msg="no update in force: nothing to roll back", **nothing)

    args = ["rollback", app] + state_args(module)
    if params["to"]:
        args += ["--to", params["to"]]
    if params["force"]:
        args.append("--force")
    if module.check_mode:
        args.append("--dry-run")
    rc, doc, err = run(module, binary, args + writing_args(module), ok_codes=(0, POST_HOOK_FAILED))
    steps = doc.get("steps", [])
    changes = [c for step in steps for c in changes_of(step.get("plan"))]
    result = dict(
        changed=bool(changes) if module.check_mode else any(s.get("outcome") == "applied" for s in steps),
        rolled_back=[(s.get("record") or {}).get("rolls_back") for s in steps if s.get("record")],
        records=[s.get("record") for s in steps if s.get("record")],
        digest_before=steps[0].get("digest_before") if steps else status.get("digest"),
        digest_after=steps[-1].get("digest_after") if steps else status.get("digest"),
        document=doc,
    )
    if module.check_mode:
        # A dry run has no records: name the updates it would undo from the history.
        count = len(steps)
        result["rolled_back"] = list(reversed(in_force[-count:])) if count else []
    result.update(merge_impacts([(s.get("plan") or {}).get("impact") for s in steps]))
    if module._diff:
        result["diff"] = diff_of(changes, app, result["digest_before"], "rollback")
    if rc == POST_HOOK_FAILED:
        module.fail_json(
            msg=error_line(err, "the post-rollback hook failed; the rollback stays done"), stderr=err, **result
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
