//! The demo city's units: the reference city's 268 units as shipped in
//! `docs/examples/units-268.csv` (88 departments, 161 public institutions, 12 districts, 7
//! development zones), embedded so the binary needs no file, with their website and catalogue
//! addresses pointing at the demo servers instead of the example domains.

use std::net::SocketAddr;

use crate::model::Unit;
use crate::registry::{self, Rejected};

use super::sites::CATALOGUE_ROOT;

/// The shipped registry file.
pub const REGISTRY_CSV: &str = include_str!("../../docs/examples/units-268.csv");

/// The shipped registry could not be read: only possible if the file in docs/ was broken.
#[derive(Debug, thiserror::Error)]
#[error("内置的演示单位名录有误：{0}")]
pub struct RegistryError(pub Rejected);

/// The units of the shipped registry, in file order, as the registry reader checks them.
pub fn registry_units() -> Result<Vec<Unit>, RegistryError> {
    let file = registry::read_registry(REGISTRY_CSV.as_bytes()).map_err(RegistryError)?;
    if !file.problems.is_empty() {
        return Err(RegistryError(Rejected::sorted(file.problems)));
    }
    Ok(file.rows.into_iter().map(|row| row.unit).collect())
}

/// The units with their addresses on the demo servers: `http://ADDRESS/` for the website and,
/// for units that have a catalogue, `http://ADDRESS/xxgk/`. `addresses` are in unit order.
pub fn served_units(units: &[Unit], addresses: &[SocketAddr]) -> Vec<Unit> {
    units
        .iter()
        .zip(addresses)
        .map(|(unit, address)| Unit {
            website: Some(format!("http://{address}/")),
            catalogue_url: unit.catalogue_url.as_ref().map(|_| format!("http://{address}{CATALOGUE_ROOT}")),
            ..unit.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;

    #[test]
    fn the_shipped_registry_has_the_reference_citys_shape() {
        let units = registry_units().expect("the shipped registry is valid");
        let count = |kind| units.iter().filter(|u| u.kind == kind).count();
        assert_eq!(units.len(), 268);
        assert_eq!(count(UnitKind::Department), 88);
        assert_eq!(count(UnitKind::Institution), 161);
        assert_eq!(count(UnitKind::District), 12);
        assert_eq!(count(UnitKind::Devzone), 7);
    }

    #[test]
    fn addresses_are_rewritten_and_catalogues_kept_only_where_there_were_some() {
        let units = registry_units().expect("valid");
        let addresses: Vec<SocketAddr> =
            (0..units.len()).map(|i| SocketAddr::from(([127, 0, 1, 1], 40_000 + i as u16))).collect();
        let served = served_units(&units, &addresses);
        assert_eq!(served[0].website.as_deref(), Some("http://127.0.1.1:40000/"));
        assert_eq!(served[0].catalogue_url.as_deref(), Some("http://127.0.1.1:40000/xxgk/"));
        for (before, after) in units.iter().zip(&served) {
            assert_eq!(before.catalogue_url.is_some(), after.catalogue_url.is_some());
            assert_eq!((&before.code, &before.name, before.kind), (&after.code, &after.name, after.kind));
        }
    }
}
