// DICOM tags the readers use, in dicom-parser's key form 'xggggeeee', with
// keywords so error messages can name the field a user would look up.

export const TAG = {
  // File meta
  TransferSyntaxUID: 'x00020010',
  MediaStorageSOPClassUID: 'x00020002',
  // Identification
  SpecificCharacterSet: 'x00080005',
  ImageType: 'x00080008',
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  Modality: 'x00080060',
  Manufacturer: 'x00080070',
  SeriesDescription: 'x0008103e',
  StudyDescription: 'x00081030',
  ProtocolName: 'x00181030',
  PatientID: 'x00100020',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  SeriesNumber: 'x00200011',
  AcquisitionNumber: 'x00200012',
  InstanceNumber: 'x00200013',
  EchoNumbers: 'x00180086',
  TemporalPositionIdentifier: 'x00200100',
  // Geometry
  ImagePositionPatient: 'x00200032',
  ImageOrientationPatient: 'x00200037',
  PixelSpacing: 'x00280030',
  ImagerPixelSpacing: 'x00181164',
  SliceThickness: 'x00180050',
  SpacingBetweenSlices: 'x00180088',
  SliceLocation: 'x00201041',
  FrameOfReferenceUID: 'x00200052',
  // MR/CT parameters kept in meta
  EchoTime: 'x00180081',
  RepetitionTime: 'x00180080',
  MagneticFieldStrength: 'x00180087',
  // Pixel module
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  PlanarConfiguration: 'x00280006',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  RedPaletteLUTDescriptor: 'x00281101',
  GreenPaletteLUTDescriptor: 'x00281102',
  BluePaletteLUTDescriptor: 'x00281103',
  RedPaletteLUTData: 'x00281201',
  GreenPaletteLUTData: 'x00281202',
  BluePaletteLUTData: 'x00281203',
  SegmentedRedPaletteLUTData: 'x00281221',
  SegmentedGreenPaletteLUTData: 'x00281222',
  SegmentedBluePaletteLUTData: 'x00281223',
  PixelData: 'x7fe00010',
  FloatPixelData: 'x7fe00008',
  DoubleFloatPixelData: 'x7fe00009',
  // Enhanced multi-frame functional groups
  SharedFunctionalGroupsSequence: 'x52009229',
  PerFrameFunctionalGroupsSequence: 'x52009230',
  PlanePositionSequence: 'x00209113',
  PlaneOrientationSequence: 'x00209116',
  PixelMeasuresSequence: 'x00289110',
  PixelValueTransformationSequence: 'x00289145',
  FrameContentSequence: 'x00209111',
  StackID: 'x00209056',
  InStackPositionNumber: 'x00209057',
  TemporalPositionIndex: 'x00209128',
  DimensionIndexValues: 'x00209157',
  // RT Dose
  GridFrameOffsetVector: 'x3004000c',
  DoseGridScaling: 'x3004000e',
  DoseUnits: 'x30040002',
  // Siemens private: CSA image header, mosaic size
  SiemensCSAImageHeader: 'x00291010',
  SiemensCSACreator: 'x00290010',
  SiemensNumberOfImagesInMosaic: 'x0019100a',
  // DICOMDIR
  DirectoryRecordSequence: 'x00041220',
  DirectoryRecordType: 'x00041430',
  ReferencedFileID: 'x00041500',
} as const;

const NAMES: Record<string, string> = Object.fromEntries(Object.entries(TAG).map(([k, v]) => [v, k]));

/** "(0028,0010) Rows" for a tag key. */
export function tagLabel(tag: string): string {
  const g = tag.slice(1, 5).toUpperCase();
  const e = tag.slice(5, 9).toUpperCase();
  const name = NAMES[tag];
  return name ? `${name} (${g},${e})` : `(${g},${e})`;
}

export const UID = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressed: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline: '1.2.840.10008.1.2.4.50',
  JPEGExtended: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
  MediaStorageDirectoryStorage: '1.2.840.10008.1.3.10',
} as const;

const TS_NAMES: Record<string, string> = {
  [UID.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [UID.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [UID.EncapsulatedUncompressed]: 'Encapsulated Uncompressed Explicit VR Little Endian',
  [UID.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [UID.ExplicitVRBigEndian]: 'Explicit VR Big Endian',
  [UID.JPEGBaseline]: 'JPEG Baseline (Process 1)',
  [UID.JPEGExtended]: 'JPEG Extended (Process 2 & 4)',
  [UID.JPEGLossless]: 'JPEG Lossless (Process 14)',
  [UID.JPEGLosslessSV1]: 'JPEG Lossless SV1 (Process 14, Selection Value 1)',
  [UID.JPEGLSLossless]: 'JPEG-LS Lossless',
  [UID.JPEGLSNearLossless]: 'JPEG-LS Near-Lossless',
  [UID.JPEG2000Lossless]: 'JPEG 2000 Lossless',
  [UID.JPEG2000]: 'JPEG 2000',
  [UID.HTJ2KLossless]: 'HTJ2K Lossless',
  [UID.HTJ2KLosslessRPCL]: 'HTJ2K Lossless RPCL',
  [UID.HTJ2K]: 'HTJ2K',
  [UID.RLELossless]: 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.101': 'MPEG2 High Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 2D',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 3D',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
};

export function transferSyntaxName(uid: string): string {
  return TS_NAMES[uid] ? `${TS_NAMES[uid]} (${uid})` : uid;
}

/** Human names of the SOP classes users are most likely to hit by mistake. */
const SOP_NAMES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.4': 'MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.481.1': 'RT Image Storage',
  '1.2.840.10008.5.1.4.1.1.481.2': 'RT Dose Storage',
  '1.2.840.10008.5.1.4.1.1.481.3': 'RT Structure Set Storage',
  '1.2.840.10008.5.1.4.1.1.481.5': 'RT Plan Storage',
  '1.2.840.10008.5.1.4.1.1.481.8': 'RT Ion Plan Storage',
  '1.2.840.10008.5.1.4.1.1.66.4': 'Segmentation Storage',
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR Storage',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR Storage',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR Storage',
  '1.2.840.10008.5.1.4.1.1.9.1.1': '12-lead ECG Waveform Storage',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF Storage',
  '1.2.840.10008.5.1.4.1.1.11.1': 'Grayscale Softcopy Presentation State Storage',
  '1.2.840.10008.5.1.4.1.1.66': 'Raw Data Storage',
  '1.2.840.10008.1.3.10': 'Media Storage Directory Storage (DICOMDIR)',
};

export function sopClassName(uid: string | undefined): string {
  if (!uid) return 'unknown SOP class';
  return SOP_NAMES[uid] ? `${SOP_NAMES[uid]} (${uid})` : uid;
}
