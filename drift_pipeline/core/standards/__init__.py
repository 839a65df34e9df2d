"""The standards engine: check.toml / standards.toml, registries, tiers, metadata, projects.

Pure: stdlib, tomli and yaml only. No Dagster, GitHub, AWS, subprocess or environment variables:
readers over git and the registry clone fetcher live in :mod:`drift_pipeline.sources`
(``git_reader.GitCommitReader``, ``registry_clone.GitCloneFetcher``). Every input is bounded
(:mod:`drift_pipeline.core.standards.limits`).

Entry points: :func:`analyse_repo` (any :class:`TreeReader`), :func:`load_config` (one file's
text), :func:`check_path` (a filesystem path, for ``drift config check``).
"""

from drift_pipeline.core.standards.analyse import (
    IGNORED_DIRS,
    TOOL_FILES,
    Detection,
    analyse_repo,
    detect_projects,
    enabled_tools,
    tracked_for,
)
from drift_pipeline.core.standards.check import PathCheck, check_path
from drift_pipeline.core.standards.globs import GlobError, glob_error, glob_match, glob_to_regex
from drift_pipeline.core.standards.loader import CONFIG_NAMES, format_key, load_config
from drift_pipeline.core.standards.metadata import METADATA_NAMES, parse_metadata_yaml
from drift_pipeline.core.standards.model import (
    INVALID_CONFIG,
    PROJECT_WITHOUT_STANDARDS,
    REGISTRY_UNRESOLVED,
    TIER_RULESET_MISMATCH,
    ConfigFile,
    Problem,
    Project,
    RepoMetadata,
    RepoStandards,
    TierCheck,
    TrackedFile,
)
from drift_pipeline.core.standards.readers import (
    LocalDirReader,
    MappingReader,
    SubtreeReader,
    TreeReader,
    UnreadableFile,
    read_checked,
)
from drift_pipeline.core.standards.registry import (
    RegistryFetcher,
    RegistryRef,
    RegistryResolver,
    RegistryUnavailable,
    deep_merge,
    parse_registry,
)
from drift_pipeline.core.standards.schema import apply_defaults, validate
from drift_pipeline.core.standards.tiers import check_tier

__all__ = [
    "CONFIG_NAMES",
    "IGNORED_DIRS",
    "INVALID_CONFIG",
    "METADATA_NAMES",
    "PROJECT_WITHOUT_STANDARDS",
    "REGISTRY_UNRESOLVED",
    "TIER_RULESET_MISMATCH",
    "TOOL_FILES",
    "ConfigFile",
    "Detection",
    "GlobError",
    "LocalDirReader",
    "MappingReader",
    "PathCheck",
    "Problem",
    "Project",
    "RegistryFetcher",
    "RegistryRef",
    "RegistryResolver",
    "RegistryUnavailable",
    "RepoMetadata",
    "RepoStandards",
    "SubtreeReader",
    "TierCheck",
    "TrackedFile",
    "TreeReader",
    "UnreadableFile",
    "analyse_repo",
    "apply_defaults",
    "check_path",
    "check_tier",
    "deep_merge",
    "detect_projects",
    "enabled_tools",
    "format_key",
    "glob_error",
    "glob_match",
    "glob_to_regex",
    "load_config",
    "parse_metadata_yaml",
    "parse_registry",
    "read_checked",
    "tracked_for",
    "validate",
]
