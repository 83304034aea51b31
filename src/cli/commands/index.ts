import type { Command } from '../io.js';
import { classifyCommand } from './classify.js';
import { consoleCommand } from './console.js';
import { devCommand } from './dev.js';
import { exportCommand } from './export.js';
import { extractCommand } from './extract.js';
import { featuresCommand } from './features.js';
import { finetuneCommand } from './finetune.js';
import { issuesCommand } from './issues.js';
import { modelsCommand } from './models.js';
import { predictCommand } from './predict.js';
import { similarCommand } from './similar.js';
import { summaryCommand } from './summary.js';
import { trainCommand } from './train.js';
import { uploadCommand } from './upload.js';
import { weightsCommand } from './weights.js';

/** Every CLI command, in the order `headstart --help` lists them. */
export const commands: Command[] = [modelsCommand, summaryCommand, weightsCommand, classifyCommand, featuresCommand, extractCommand, finetuneCommand, trainCommand, exportCommand, predictCommand, similarCommand, issuesCommand, uploadCommand, devCommand, consoleCommand];
