/**
 * True when the image was written after its link: re-uploaded since extraction. S3 keeps Last-Modified
 * to the second, and a link is written after its image, so only a gap over a second means a new upload.
 */
export function linkIsStale(image: { lastModified?: Date }, link: { lastModified?: Date }): boolean {
  return image.lastModified !== undefined && link.lastModified !== undefined && image.lastModified.getTime() > link.lastModified.getTime() + 1000;
}

/**
 * True when a link no longer describes its image: the ETags differ (new bytes), or, for a link without
 * one, the image is newer. A re-upload of the same bytes keeps its ETag, so it is not outdated.
 */
export function linkIsOutdated(image: { lastModified?: Date; etag?: string }, linkInfo: { lastModified?: Date }, link: { etag?: string }): boolean {
  if (link.etag !== undefined && image.etag !== undefined) return link.etag !== image.etag;
  return linkIsStale(image, linkInfo);
}
