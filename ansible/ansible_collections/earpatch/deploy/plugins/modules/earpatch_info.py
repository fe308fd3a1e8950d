#!/usr/bin/python
# Copyright: earpatch developers
# Apache License 2.0 (see LICENSE at the root of the repository)
"""Ansible module earpatch_info: what earpatch knows about an application, and its drift."""

DOCUMENTATION = r"""
---
module: earpatch_info
short_description: Read an application's digest, modules, updates in force and drift with earpatch
version_added: "0.1.0"
description:
  - Runs C(earpatch status --format json) and C(earpatch inspect --format json) on the target and
    returns the application's form, content digest, modules, the updates in force, whether an
    operation was interrupted, and whether it changed since the last update (drift).
  - With O(verify=true) also runs C(earpatch verify), which re-reads every file (ignoring the
    content index) and names the files that drifted. It refreshes the content index in the
    state folder (a cache) and takes the lock; it never changes the application.
  - With O(compare_with), a copy of the master application on the target, the drifted files of
    an application whose digest differs are listed by C(earpatch diff MASTER APP) when C(verify)
    cannot name them (a node earpatch never updated has no index describing the expected content).
  - Never changes the application, so it reports C(changed=false) and runs in check mode.
author:
  - earpatch developers
extends_documentation_fragment:
  - earpatch.deploy.earpatch
options:
  verify:
    description:
      - Run C(earpatch verify) (reads every file) and return the drifted files.
    type: bool
    default: false
  expect_digest:
    description:
      - The digest the application should have (the master copy's). The drift check compares
        with it instead of with what the last update left (C(verify --expect-digest)).
    type: str
  compare_with:
    description:
      - A copy of the master application on the target (an C(.ear) or expanded directory). When
        the application drifted and the drifted files are not known otherwise, they are listed
        from C(earpatch diff COMPARE_WITH APP) (written to a temporary file, removed after).
    type: path
notes:
  - Supports check mode.
seealso:
  - module: earpatch.deploy.earpatch_apply
  - module: earpatch.deploy.earpatch_rollback
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read the application's state
  earpatch.deploy.earpatch_info:
    app: /srv/apps/shop
  register: shop

- name: Show the updates in force
  ansible.builtin.debug:
    msg: "{{ shop.in_force | map(attribute='id') | list }}"

- name: Check every file against the master's digest
  earpatch.deploy.earpatch_info:
    app: /srv/apps/shop
    verify: true
    expect_digest: sha256:867d626a2aac3d30f342cd1fe580fbfa9a5e250db03d30d5a1c3ecbd156939b2
    compare_with: /var/tmp/master-shop.ear
  register: shop

- name: Report drift
  ansible.builtin.debug:
    msg: "{{ shop.drift.files }}"
  when: shop.drift.clean is false
"""

RETURN = r"""
app:
  description: The application path given.
  returned: always
  type: str
form:
  description: C(archive) or C(expanded).
  returned: always
  type: str
digest:
  description: The content digest now (read through the content index; re-read in full with
    O(verify)); null while an operation is interrupted.
  returned: always
  type: str
  sample: sha256:867d626a2aac3d30f342cd1fe580fbfa9a5e250db03d30d5a1c3ecbd156939b2
expected:
  description: The digest it should have, O(expect_digest) or the one the last update or
    rollback left; null when unknown.
  returned: always
  type: str
modules:
  description: The modules (from C(earpatch inspect)), each with C(uri), C(kind), C(context_root),
    C(storage), C(files), C(bytes); empty while an operation is interrupted.
  returned: always
  type: list
  elements: dict
in_force:
  description: The updates in force, oldest first (C(id), C(applied_at), C(kind), C(source),
    C(impact), C(can_roll_back), C(pruned_at)).
  returned: always
  type: list
  elements: dict
interrupted:
  description: An operation did not finish; run C(earpatch recover APP).
  returned: always
  type: bool
drift:
  description:
    - C(clean) is true when the digest is the expected one, false when it differs, null when
      there is nothing to compare with.
    - C(checked) says how (C(verify) re-read every file; C(status) compared through the index).
    - C(files) lists the drifted files (C(path), C(change) C(modified)/C(added)/C(deleted)) when
      known; C(files_known) is false otherwise; C(source) says where they come from
      (C(verify), C(diff)); C(diff_error) is why the C(diff) could not list them.
  returned: always
  type: dict
  sample: {"clean": false, "checked": "verify", "files": [{"path": "legal/NOTICE.txt", "change": "modified"}],
           "files_known": true, "source": "diff", "diff_error": null}
status:
  description: The C(earpatch.status/v1) document.
  returned: always
  type: dict
inspect:
  description: The C(earpatch.inspect/v1) document; null while an operation is interrupted.
  returned: always
  type: dict
verify:
  description: The C(earpatch.verify/v1) document, with O(verify=true).
  returned: when verify is true
  type: dict
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.earpatch.deploy.plugins.module_utils.earpatch import (
    common_argument_spec,
    drift_of_diff,
    find_binary,
    run,
    state_args,
)


def diff_drift(module, binary, master, app):
    """Drifted files of APP against MASTER, from `earpatch diff`; (files, error)."""
    tmp = tempfile.mkdtemp(prefix="earpatch-info-")
    try:
        cmd = [binary, "diff", master, app, "-o", os.path.join(tmp, "drift.zip"), "--format", "json"]
        rc, out, err = module.run_command(cmd, environ_update={"NO_COLOR": "1"})
        if rc != 0:
            return None, err.strip() or "earpatch diff exited with status %d" % rc
        try:
            doc = json.loads(out)
        except ValueError:
            return None, "earpatch diff printed no JSON document"
        return drift_of_diff(doc.get("plan")), None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    argument_spec = dict(
        verify=dict(type="bool", default=False),
        expect_digest=dict(type="str"),
        compare_with=dict(type="path"),
    )
    argument_spec.update(common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    binary = find_binary(module)
    app = params["app"]
    expect = params["expect_digest"]

    _, status, _ = run(module, binary, ["status", app] + state_args(module))
    interrupted = bool(status.get("interrupted"))
    inspect = None
    if not interrupted:
        _, inspect, _ = run(module, binary, ["inspect", app] + state_args(module))

    result = dict(
        changed=False,
        app=app,
        form=status.get("form"),
        digest=status.get("digest"),
        expected=expect or status.get("expected"),
        modules=(inspect or {}).get("modules", []),
        in_force=status.get("in_force", []),
        interrupted=interrupted,
        status=status,
        inspect=inspect,
    )
    drift = dict(clean=None, checked="status", files=[], files_known=False, source=None, diff_error=None)

    if params["verify"]:
        args = ["verify", app] + state_args(module)
        if expect:
            args += ["--expect-digest", expect]
        _, verify, _ = run(module, binary, args, ok_codes=(0, 1))
        if verify.get("schema") != "earpatch.verify/v1":
            module.fail_json(msg=verify.get("message", "earpatch verify failed"), error=verify, **result)
        result["verify"] = verify
        result["digest"] = verify.get("digest")
        result["expected"] = verify.get("expected")
        drift.update(checked="verify", clean=bool(verify.get("clean")))
        if verify.get("baseline") == "none":
            drift["clean"] = None
        if verify.get("drifted_known") and not verify.get("clean"):
            drift.update(files=verify.get("drifted", []), files_known=True, source="verify")
    elif result["digest"] and result["expected"]:
        drift["clean"] = result["digest"] == result["expected"]

    if drift["clean"] is False and not drift["files_known"] and params["compare_with"]:
        files, error = diff_drift(module, binary, params["compare_with"], app)
        if error:
            drift["diff_error"] = error
        else:
            drift.update(files=files, files_known=True, source="diff")
    result["drift"] = drift
    module.exit_json(**result)


if __name__ == "__main__":
    main()
