//! `meshform policy test DIR`: placeholder, filled in below.
