//! Byte formats shared by the stages that read layers: tar headers ([`tar`]) and the
//! layer codecs ([`codec`]). Nothing here knows about images.

pub mod codec;
pub mod tar;
pub mod tar_split;
