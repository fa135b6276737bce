/// VGG's input convention: BGR channel order, the ImageNet mean pixel subtracted, 0–255 scale, CHW.
public enum VGGPreprocessing {
    /// B, G, R means subtracted from the pixels (Simonyan & Zisserman's Caffe model).
    public static let meanBGR: (Float, Float, Float) = (103.939, 116.779, 123.68)

    public static func tensor(from image: RGBImage) -> Tensor {
        var tensor = Tensor(channels: 3, height: image.height, width: image.width)
        let plane = image.pixelCount
        tensor.withUnsafeMutableBufferPointer { out in
            image.pixels.withUnsafeBufferPointer { px in
                for i in 0..<plane {
                    out[i] = px[3 * i + 2] - meanBGR.0
                    out[plane + i] = px[3 * i + 1] - meanBGR.1
                    out[2 * plane + i] = px[3 * i] - meanBGR.2
                }
            }
        }
        return tensor
    }

    /// Back to RGB on 0…255, unclamped (the PNG writer rounds and clamps).
    public static func image(from tensor: Tensor) -> RGBImage {
        precondition(tensor.channels == 3, "VGGPreprocessing.image: expected 3 channels, got \(tensor.channels)")
        let plane = tensor.planeSize
        var pixels = [Float](repeating: 0, count: plane * 3)
        tensor.withUnsafeBufferPointer { t in
            for i in 0..<plane {
                pixels[3 * i] = t[2 * plane + i] + meanBGR.2
                pixels[3 * i + 1] = t[plane + i] + meanBGR.1
                pixels[3 * i + 2] = t[i] + meanBGR.0
            }
        }
        return RGBImage(width: tensor.width, height: tensor.height, pixels: pixels)
    }
}
