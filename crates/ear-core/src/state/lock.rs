//! The one-writer lock of an application (an OS lock on `APP.earpatch/lock`
//! holding the pid): a second writer fails at once naming the holder.
//! Released when dropped or when the process dies. It guards; it never
//! changes the application.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::Path;

use super::StateDir;
use crate::error::{Error, Result};

/// Held while changing an application; released when dropped (or when the
/// process dies: it is an OS lock).
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl StateDir {
    /// Takes the one-writer lock, or fails at once naming the holder's pid.
    pub(crate) fn lock(&self, app: &Path) -> Result<Lock> {
        self.create()?;
        let path = self.root.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("cannot open", &path, e))?;
        if file.try_lock().is_err() {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(Error::Refused {
                location: app.display().to_string(),
                message: format!(
                    "another earpatch (pid {}) is changing this application (lock {}); wait for it to finish",
                    pid.trim(),
                    path.display()
                ),
            });
        }
        file.set_len(0)
            .map_err(|e| Error::io("cannot write", &path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| Error::io("cannot write", &path, e))?;
        Ok(Lock { _file: file })
    }
}
