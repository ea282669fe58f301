//! `revmc store`: list, verify and collect an AOT artifact store.

use clap::Subcommand;
use revmc_runtime::store::{ArtifactStore, FsStore, Loaded};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// List the artifacts: code hash, fork, level, target and build.
    Ls { dir: PathBuf },
    /// Check every artifact as loading would (ownership, mode, size, checksum, HMAC, ABI,
    /// `dlopen`); list the bad ones, which are moved to `quarantine/` as a load would do,
    /// and exit 1 if there is any.
    Verify {
        dir: PathBuf,
        /// HMAC-SHA256 key (hex) the store is authenticated with.
        #[arg(long)]
        hmac_key: Option<String>,
    },
    /// Remove debris and the least recently used artifacts until the store holds at most
    /// `--budget` bytes.
    Gc {
        dir: PathBuf,
        #[arg(long)]
        budget: u64,
    },
}

pub fn store(command: &StoreCommand) -> anyhow::Result<ExitCode> {
    match command {
        StoreCommand::Ls { dir } => {
            let store = FsStore::open(dir)?;
            let keys = store.keys()?;
            for k in &keys {
                println!(
                    "{}  {:#x}  spec {}  O{}  {}  build {}",
                    k.id(),
                    k.code_hash,
                    k.spec_id,
                    k.opt_level,
                    // Triple and CPU; the feature list is long.
                    k.target.splitn(3, '/').take(2).collect::<Vec<_>>().join("/"),
                    k.build_id
                );
            }
            println!("{} artifacts", keys.len());
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Verify { dir, hmac_key } => {
            let mut store = FsStore::open(dir)?;
            if let Some(key) = hmac_key {
                store = store.with_hmac_key(crate::code::bytes(key)?);
            }
            let keys = store.keys()?;
            let mut bad = 0;
            for k in &keys {
                match store.load(k) {
                    Ok(Loaded::Hit(_)) => {}
                    Ok(Loaded::Miss) => {
                        bad += 1;
                        println!("BAD {}: listed but not loadable (missing library)", k.id());
                    }
                    Ok(Loaded::Discarded(why)) => {
                        bad += 1;
                        println!("BAD {}: {why:?} (moved to quarantine/)", k.id());
                    }
                    Err(e) => {
                        bad += 1;
                        println!("BAD {}: {e}", k.id());
                    }
                }
            }
            println!("{} artifacts, {} bad", keys.len(), bad);
            Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        StoreCommand::Gc { dir, budget } => {
            let report = FsStore::open(dir)?.gc(*budget)?;
            println!("{report:?}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
