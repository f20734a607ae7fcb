/** Claude Code writes error replies as model `<synthetic>`: never a model a user chose (ccusage hides it too). */
export const SYNTHETIC_MODEL = '<synthetic>';
