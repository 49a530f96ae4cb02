// The slices of autocannon and oidc-provider the benchmark uses; neither ships its own types.

declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface RequestSpec {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    setupRequest?: (req: RequestSpec, context: Record<string, unknown>) => RequestSpec | null;
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }

  export interface Client extends EventEmitter {
    /** Internal (autocannon 9): the per-connection request builder and its context. */
    requestIterator: {
      context: Record<string, unknown>;
      resetContext: () => void;
      rebuildRequest: () => unknown;
    };
  }

  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: RequestSpec[];
    setupClient?: (client: Client) => void;
  }

  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    total: number;
  }

  export interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }

  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}

declare module 'oidc-provider' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  export interface Ctx {
    oidc: {
      params: Record<string, string | undefined>;
      client: { clientId: string };
      provider: Provider;
    };
    body: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    registerGrantType(name: string, handler: (ctx: Ctx) => Promise<void>, params?: string[] | Set<string>): void;
    listen(port: number, host: string, cb?: () => void): Server;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly Grant: new (init: { accountId: string; clientId: string }) => {
      addOIDCScope(scope: string): void;
      addResourceScope(resource: string, scope: string): void;
      save(): Promise<string>;
    };
    readonly AccessToken: new (init: Record<string, unknown>) => {
      resourceServer: unknown;
      scope: string | undefined;
      expiration: number;
      save(): Promise<string>;
    };
    readonly RefreshToken: new (init: Record<string, unknown>) => { save(): Promise<string> };
    readonly ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
  }

  export const errors: {
    InvalidGrant: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
  };

  export default Provider;
}
