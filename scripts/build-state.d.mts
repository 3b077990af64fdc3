export const STAMP: string;
export function staleBuildReason(root: string): string | null;
