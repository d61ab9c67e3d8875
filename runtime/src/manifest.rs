//! Reading the manifest (its types are schedc-abi's) out of an object file.

use std::path::Path;

use object::{Object, ObjectSection};
use schedc_abi::{section, Manifest};

use crate::Error;

/// Reads the manifest of the object file at `path`.
pub fn read_manifest(path: impl AsRef<Path>) -> Result<Manifest, Error> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
    read_manifest_bytes(&data, path)
}

/// Reads the manifest from the bytes of an object file; `path` is only used
/// in error messages.
pub fn read_manifest_bytes(data: &[u8], path: &Path) -> Result<Manifest, Error> {
    let not_ours = || Error::NotSchedcObject { path: path.into() };
    let file = object::File::parse(data).map_err(|_| not_ours())?;
    let section = file.section_by_name(section::MANIFEST).ok_or_else(not_ours)?;
    let bytes = section.data().map_err(|_| not_ours())?;
    // The C string's terminating NUL (and any padding) is not JSON.
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bad = |reason: String| Error::BadManifest { path: path.into(), reason };
    let json = std::str::from_utf8(&bytes[..end]).map_err(|_| bad("it is not UTF-8".into()))?;
    Manifest::from_json(json).map_err(|err| bad(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_elf_is_not_a_schedc_object() {
        let err = read_manifest_bytes(b"hello", Path::new("x.o")).unwrap_err();
        assert!(matches!(err, Error::NotSchedcObject { .. }), "{err}");
    }
}
