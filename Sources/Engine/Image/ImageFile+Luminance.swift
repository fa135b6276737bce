extension ImageFile {
    /// One value per pixel on the 0…1 scale: the Rec. 601 luma of the sRGB-encoded samples
    /// (0.299 R + 0.587 G + 0.114 B, as libjpeg and Pillow's "L" mode compute it). Grey pixels
    /// give exactly their own value, so a greyscale mask survives unchanged.
    public static func luminance(of image: RGBImage) -> [Float] {
        image.pixels.withUnsafeBufferPointer { rgb in
            [Float](unsafeUninitializedCapacity: image.pixelCount) { grey, count in
                for p in 0..<image.pixelCount {
                    let r = rgb[p * 3], g = rgb[p * 3 + 1], b = rgb[p * 3 + 2]
                    let luma = (r == g && g == b) ? r : 0.299 * r + 0.587 * g + 0.114 * b
                    grey[p] = luma / 255
                }
                count = image.pixelCount
            }
        }
    }
}
