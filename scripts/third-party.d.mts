export interface ShippedPackage {
  name: string;
  version: string;
  licence: string;
  repository: string;
  author: string;
  files: { name: string; text: string }[];
  mended: string | null;
}
export function shippedPackages(root: string): ShippedPackage[];
export function builtinPacks(root: string): {
  name: string;
  title: string;
  licence: string;
  source: string;
  photos: { file: string; licence: string; from: string }[];
}[];
export function thirdPartyNotices(root: string): string;
