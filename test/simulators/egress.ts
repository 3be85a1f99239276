// The egress policy of everything that talks to the simulators: they listen on loopback, which the
// sandbox refuses by default, so tests allow it explicitly as the local demo does (never more).
import { type EgressPolicy, egressFromEnv } from '../../operator/internal/httpx/egress-config.ts';

export const LOOPBACK_ALLOW_CIDRS = '127.0.0.0/8,::1/128';

export const SIMULATOR_EGRESS: EgressPolicy = egressFromEnv({ EGRESS_ALLOW_CIDRS: LOOPBACK_ALLOW_CIDRS });
