//! GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS*, GEOSEARCH and GEOSEARCHSTORE (Redis's `geo.c`).

use crate::command::CommandSpec;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[];
