/**
 * Why a classifier said what it said: Grad-CAM heat maps (Selvaraju et al. 2017) of a zoo model's ImageNet
 * classifier or of a head on its base, in TF.js, and the PNG overlay of a map on its photo.
 */
export { gradCam, type ExplainOutput, type GradCamResult } from './gradcam.js';
export { openClassifierExplainer, openHeadExplainer, type ExplainNetwork, type OpenExplainOptions } from './network.js';
export { overlayPng, type HeatMap, type OverlayOptions } from './overlay.js';
