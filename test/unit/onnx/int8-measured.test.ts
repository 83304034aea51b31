import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { int8Note, MEASURED_INT8 } from '../../../src/engine/onnx/quantize/measured.js';
import { MODEL_IDS, type ModelId } from '../../../src/zoo/types.js';

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: () => {} };
  return { code: await main(args, io), out: out.join('\n') };
}

const measured = Object.entries(MEASURED_INT8.models) as Array<[ModelId, NonNullable<(typeof MEASURED_INT8.models)[ModelId]>]>;

describe('headstart models: int8 against fp32 as measured', () => {
  let home: string;
  const previous = process.env.HEADSTART_HOME;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'hs-models-'));
    process.env.HEADSTART_HOME = home;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.HEADSTART_HOME;
    else process.env.HEADSTART_HOME = previous;
    rmSync(home, { recursive: true, force: true });
  });

  it('records measurements for the zoo models the bench ran, with where they come from', () => {
    expect(measured.length).toBeGreaterThanOrEqual(2);
    expect(MEASURED_INT8.models.resnet50).toBeDefined();
    expect(MEASURED_INT8.models.densenet121).toBeDefined();
    expect(MEASURED_INT8.command).toMatch(/^npm run bench -- --only zoo/);
    for (const [, m] of measured) expect(m.speedup.batch1).toBeGreaterThan(0);
  });

  it('keeps fp32 the default for every model and says where int8 measured slower', async () => {
    // Act
    const json = JSON.parse((await run('models', '--json')).out) as {
      models: Array<{ id: ModelId; defaultPrecision: string; int8: { note: string; measured: unknown } }>;
      int8Measured: { command: string; machine: string };
    };
    const text = await run('models');
    // Assess
    expect(json.models.map((m) => m.defaultPrecision)).toEqual(MODEL_IDS.map(() => 'fp32'));
    expect(json.int8Measured.command).toBe(MEASURED_INT8.command);
    for (const m of json.models) {
      const entry = MEASURED_INT8.models[m.id];
      expect(m.int8.measured).toEqual(entry ?? null);
      const slower = entry && (entry.speedup.batch1 < 1 || entry.speedup.batch8 < 1);
      expect(m.int8.note.includes('slower than fp32 here'), `${m.id}: ${m.int8.note}`).toBe(Boolean(slower));
      expect(text.out.split('\n').find((line) => line.startsWith(`${m.id} `))).toContain(m.int8.note);
    }
    expect(text.out).toContain(`\`${MEASURED_INT8.command}\``);
    expect(text.out).toContain("fp32 is every model's default");
  });

  it('writes the note from the numbers', () => {
    const id = measured[0]![0];
    const { batch1, batch8 } = MEASURED_INT8.models[id]!.speedup;
    expect(int8Note(id)).toContain(`${batch1.toFixed(2)}× at batch 1`);
    expect(int8Note(id)).toContain(`${batch8.toFixed(2)}× at batch 8`);
    const unmeasured = MODEL_IDS.find((m) => !MEASURED_INT8.models[m]);
    if (unmeasured) expect(int8Note(unmeasured)).toBe('not measured');
  });
});
