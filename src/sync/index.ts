/**
 * Multi-device sync (docs/specs/sync-protocol-v1.md). Loaded only by `sync` commands and
 * the API's sync route, so the core never pulls in the crypto or S3 dependencies.
 */
export { initSync, type InitOptions, type InitResult } from './init.js';
export { loadContext, type SyncContext, type SyncProgress, type ContextOptions } from './context.js';
export { push, type PushResult } from './push.js';
export { peerWarning, pull, type PullResult, type PeerPullResult } from './pull.js';
export { syncStatus, remoteUsage, type SyncStatus } from './status.js';
export { verify, type DeviceVerification } from './verify.js';
export { requireIdentity, resolveIdentity, DEFAULT_KEY_ENV } from './keys.js';
export { fingerprint } from './crypto.js';
export { autoSwitch, parseSettingAssignments, writeAutoSettings, type AutoSettings } from './settings.js';
export { enableAuto, disableAuto } from './daemon.js';
export { runLockedLoop, hostSyncIfOn } from './host.js';
export { pushAndCompact, type PipelineResult } from './pipeline.js';
export { queuedSegments } from './state.js';
export { prune } from './prune.js';
export { compact, type CompactResult } from './compact.js';
export { keyWithinDevice } from './layout.js';
export { requireSyncState } from './state.js';
