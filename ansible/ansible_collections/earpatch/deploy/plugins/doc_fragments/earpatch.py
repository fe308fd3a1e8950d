# Copyright: earpatch developers
# Apache License 2.0 (see LICENSE at the root of the repository)
"""The options every earpatch module shares (extends_documentation_fragment: earpatch.deploy.earpatch)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  app:
    description:
      - The application on the target, an C(.ear) file or an expanded application directory.
    type: path
    required: true
  state_dir:
    description:
      - Where the application's state (history, undo bundles, log, lock, content index) is kept
        (C(--state-dir)); default C(APP.earpatch) beside the application.
    type: path
  binary:
    description:
      - The earpatch binary on the target, a path or a name looked up on C(PATH).
    type: path
    default: earpatch
"""
