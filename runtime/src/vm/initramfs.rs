//! The guest's root file system: a `newc` cpio archive (the format the
//! kernel unpacks as initramfs), built in memory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::VmError;

/// A `newc` archive under construction. Parent directories are created as
/// needed.
#[derive(Default)]
pub struct Initramfs {
    data: Vec<u8>,
    dirs: BTreeSet<String>,
    libs: BTreeSet<PathBuf>,
    ino: u32,
}

impl Initramfs {
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, path: &str, mode: u32, body: &[u8]) {
        let name = path.trim_start_matches('/');
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            if mode & 0o170000 == 0o040000 { 2 } else { 1 },
            0, // mtime
            body.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0, // check
        ];
        self.data.extend_from_slice(b"070701");
        for f in fields {
            self.data.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(body);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            acc.push('/');
            acc.push_str(part);
            if self.dirs.insert(acc.clone()) {
                let dir = acc.clone();
                self.entry(&dir, 0o040755, &[]);
            }
        }
    }

    /// Adds a directory.
    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.parents(&format!("{path}/x"));
        self
    }

    /// Adds a regular file with permission bits `perm` (e.g. 0o755).
    pub fn bytes(&mut self, path: &str, perm: u32, body: &[u8]) -> &mut Self {
        self.parents(path);
        self.entry(path, 0o100000 | perm, body);
        self
    }

    /// Copies the host file `src` (symlinks followed) to `path`.
    pub fn file(&mut self, path: &str, src: &Path, perm: u32) -> Result<&mut Self, VmError> {
        let body = std::fs::read(src).map_err(|source| VmError::Read { path: src.into(), source })?;
        Ok(self.bytes(path, perm, &body))
    }

    /// Copies the host executable `src` to `path` along with every shared
    /// library `ldd` lists for it, each at its host path.
    pub fn executable(&mut self, path: &str, src: &Path) -> Result<&mut Self, VmError> {
        self.file(path, src, 0o755)?;
        for lib in shared_libs(src)? {
            if self.libs.insert(lib.clone()) {
                self.file(&lib.to_string_lossy(), &lib, 0o755)?;
            }
        }
        Ok(self)
    }

    /// The finished archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.data
    }
}

/// Host paths of the shared libraries (and dynamic loader) `exe` needs.
fn shared_libs(exe: &Path) -> Result<Vec<PathBuf>, VmError> {
    let out = Command::new("ldd").arg(exe).output().map_err(|source| VmError::Host { what: "run ldd", source })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("not a dynamic executable") || text.contains("statically linked") {
        return Ok(Vec::new());
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vdso has no path.
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next().filter(|p| p.starts_with('/')),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        } else if line.contains("not found") {
            return Err(VmError::MissingLibrary { executable: exe.into(), missing: line.trim().to_string() });
        }
    }
    Ok(libs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_layout() {
        let mut img = Initramfs::new();
        img.bytes("/a/b", 0o644, b"hi");
        let data = img.finish();
        // "/a" directory, "a/b" file, trailer; every header is 4-aligned.
        assert_eq!(&data[..6], b"070701");
        let text = String::from_utf8_lossy(&data);
        assert_eq!(text.matches("070701").count(), 3);
        assert!(text.contains("a/b\0"));
        assert!(text.contains("TRAILER!!!\0"));
        assert_eq!(data.len() % 4, 0);
    }
}
