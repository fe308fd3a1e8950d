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

    # The options of the modules that write (apply, rollback).
    WRITING = r"""
options:
  config:
    description:
      - The earpatch configuration file (C(--config)) with deployment settings, limits and hooks. Default
        C(config.toml) in the application's state folder, when it exists; options given here override it.
    type: path
  hooks:
    description:
      - Run the hooks of the configuration file; V(false) passes C(--no-hooks).
      - A failing pre hook writes nothing (the task fails). A failing post hook leaves the change in
        place; the task fails with C(changed=true) and the history record, so it can be rolled back.
    type: bool
    default: true
"""
