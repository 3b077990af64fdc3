export interface ServerOptions {
  port?: number;
  host?: string;
  dir?: string;
  quiet?: boolean;
  mounts?: Record<string, string>;
}

export function startServer(
  options?: ServerOptions,
): Promise<{ url: string; close: () => Promise<void> }>;
