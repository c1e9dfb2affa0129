pub mod write_path;
