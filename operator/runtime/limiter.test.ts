import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('Limiter', () => {
  it('keeps at most its limit in flight and starts the waiting calls in the order they came', async () => {
    const limiter = new Limiter(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        limiter.run(async () => {
          order.push(n);
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight -= 1;
          return n * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5, 6]);
    expect(limiter.queued).toBe(0);
  });

  it('passes the turn on after a failure, and the failure reaches only its own caller', async () => {
    const limiter = new Limiter(1);
    const failing = limiter.run(async () => {
      await tick();
      throw new Error('refused');
    });
    const next = limiter.run(async () => 'served');
    await expect(failing).rejects.toThrow('refused');
    await expect(next).resolves.toBe('served');
  });

  it.each([0, -1, 1.5])('refuses a limit of %s', (limit) => {
    expect(() => new Limiter(limit)).toThrow(/at least 1/);
  });
});
