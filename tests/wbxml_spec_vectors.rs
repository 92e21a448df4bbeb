//! Byte vectors written by hand from the MS-ASWBXML code page tables and the
//! WBXML 1.3 token table, not produced by our encoder: each must decode to
//! exactly the XML given, and that XML must encode to exactly these bytes.
//!
//! Notation of the byte strings: hex pairs, whitespace ignored; `'text'` is
//! the UTF-8 bytes of `text` (for the inside of STR_I). Tokens are annotated
//! as `Name(token)`; a tag with content is `token | 0x40`.
//!
//! WBXML globals used: SWITCH_PAGE 00, END 01, STR_I 03 (NUL-terminated),
//! OPAQUE C3 (mb_u_int32 length, then the bytes). Header 03 01 6A 00: WBXML
//! 1.3, public id 1 (unknown), charset 106 (UTF-8), string table length 0.

use eastest::wbxml::{
    DecodeErrorKind, DecodeOptions, EncodeErrorKind, EncodeOptions, Mode, ProtocolVersion,
    VersionSet, code_pages, decode, encode,
};
use rstest::rstest;

use ProtocolVersion::{V12_1, V14_1, V16_0, V16_1};

const DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// Parses the notation above into bytes.
fn bytes(notation: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = notation.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => panic!("unterminated quote in {notation:?}"),
                    }
                }
                out.extend_from_slice(s.as_bytes());
            }
            hi => {
                let lo = chars
                    .next()
                    .unwrap_or_else(|| panic!("odd hex digit in {notation:?}"));
                let pair: String = [hi, lo].iter().collect();
                out.push(
                    u8::from_str_radix(&pair, 16)
                        .unwrap_or_else(|_| panic!("bad hex `{pair}` in {notation:?}")),
                );
            }
        }
    }
    out
}

fn compact(version: ProtocolVersion, mode: Mode) -> DecodeOptions {
    DecodeOptions {
        version,
        mode,
        indent: false,
        ..DecodeOptions::default()
    }
}

fn enc_opts(version: ProtocolVersion, mode: Mode) -> EncodeOptions {
    EncodeOptions {
        version,
        mode,
        ..EncodeOptions::default()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// decode(bytes) is exactly the XML (compact form, after the XML
/// declaration), and encode(XML) is exactly the bytes.
#[track_caller]
fn check_both_ways(version: ProtocolVersion, mode: Mode, wbxml: &[u8], xml: &str) {
    let expected = format!("{DECL}{xml}\n");
    let decoded = decode(wbxml, &compact(version, mode))
        .unwrap_or_else(|e| panic!("decode of {} failed: {e}", hex(wbxml)));
    assert_eq!(decoded, expected, "decode of {}", hex(wbxml));
    let encoded =
        encode(xml, &enc_opts(version, mode)).unwrap_or_else(|e| panic!("encode failed: {e}"));
    assert_eq!(hex(&encoded), hex(wbxml), "encode of {xml}");
    // The XML declaration the decoder writes is accepted too.
    let encoded = encode(&expected, &enc_opts(version, mode)).unwrap();
    assert_eq!(hex(&encoded), hex(wbxml), "encode of the decoder's output");
}

/// encode(XML) is exactly the bytes (for XML that is not the decoder's form).
#[track_caller]
fn check_encodes_to(version: ProtocolVersion, xml: &str, wbxml: &[u8]) {
    let encoded = encode(xml, &EncodeOptions::strict(version))
        .unwrap_or_else(|e| panic!("encode of {xml:?} failed: {e}"));
    assert_eq!(hex(&encoded), hex(wbxml), "encode of {xml:?}");
}

// ---------------------------------------------------------------------------
// One document (at least) for every code page that has tags: 0-2, 4-25.
// ---------------------------------------------------------------------------

#[rstest]
// Page 0 AirSync: Sync(05) Collections(1C) Collection(0F) SyncKey(0B)
// CollectionId(12) GetChanges(13, no content) WindowSize(15).
#[case::page00_airsync(
    V14_1,
    "03 01 6A 00  45 5C 4F  4B 03 '0' 00 01  52 03 '5' 00 01  13  55 03 '50' 00 01  01 01 01",
    r#"<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>5</CollectionId><GetChanges/><WindowSize>50</WindowSize></Collection></Collections></Sync>"#
)]
// Page 1 Contacts: FirstName(1F) LastName(29); page 12 Contacts2: NickName(0D);
// page 0 Commands(16) Add(07) ClientId(0C) ApplicationData(1D). Switches 1 -> 12 -> 1.
#[case::page01_contacts_page12_contacts2(
    V14_1,
    "03 01 6A 00  45 5C 4F  4B 03 '1' 00 01  52 03 '2' 00 01  56 47  4C 03 'c1' 00 01  5D
     00 01  5F 03 'Ann' 00 01
     00 0C  4D 03 'Annie' 00 01
     00 01  69 03 'Lee' 00 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Contacts="Contacts:" xmlns:Contacts2="Contacts2:"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>2</CollectionId><Commands><Add><ClientId>c1</ClientId><ApplicationData><Contacts:FirstName>Ann</Contacts:FirstName><Contacts2:NickName>Annie</Contacts2:NickName><Contacts:LastName>Lee</Contacts:LastName></ApplicationData></Add></Commands></Collection></Collections></Sync>"#
)]
// Page 2 Email: Read(15) in a Change(08) with ServerId(0D).
#[case::page02_email(
    V14_1,
    "03 01 6A 00  45 5C 4F  4B 03 '7' 00 01  52 03 '5' 00 01  56 48  4D 03 '5:1' 00 01  5D
     00 02  55 03 '1' 00 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Email="Email:"><Collections><Collection><SyncKey>7</SyncKey><CollectionId>5</CollectionId><Commands><Change><ServerId>5:1</ServerId><ApplicationData><Email:Read>1</Email:Read></ApplicationData></Change></Commands></Collection></Collections></Sync>"#
)]
// Page 4 Calendar: AllDayEvent(06) Subject(26).
#[case::page04_calendar(
    V14_1,
    "03 01 6A 00  45 5C 4F 56 47  4D 03 '1:1' 00 01  5D
     00 04  46 03 '1' 00 01  66 03 'Holiday' 00 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Calendar="Calendar:"><Collections><Collection><Commands><Add><ServerId>1:1</ServerId><ApplicationData><Calendar:AllDayEvent>1</Calendar:AllDayEvent><Calendar:Subject>Holiday</Calendar:Subject></ApplicationData></Add></Commands></Collection></Collections></Sync>"#
)]
// Page 5 Move: MoveItems(05) Move(06) SrcMsgId(07) SrcFldId(08) DstFldId(09).
#[case::page05_move(
    V14_1,
    "03 01 6A 00  00 05  45 46  47 03 '5:1' 00 01  48 03 '5' 00 01  49 03 '6' 00 01  01 01",
    r#"<MoveItems xmlns="Move:"><Move><SrcMsgId>5:1</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>6</DstFldId></Move></MoveItems>"#
)]
// Page 6 GetItemEstimate: GetItemEstimate(05) Response(0D) Status(0E)
// Collection(08) CollectionId(0A) Estimate(0C).
#[case::page06_getitemestimate(
    V14_1,
    "03 01 6A 00  00 06  45 4D  4E 03 '1' 00 01  48  4A 03 '5' 00 01  4C 03 '12' 00 01  01 01 01",
    r#"<GetItemEstimate xmlns="GetItemEstimate:"><Response><Status>1</Status><Collection><CollectionId>5</CollectionId><Estimate>12</Estimate></Collection></Response></GetItemEstimate>"#
)]
// Page 7 FolderHierarchy: FolderCreate(13) SyncKey(12) ParentId(09)
// DisplayName(07) Type(0A).
#[case::page07_folderhierarchy(
    V14_1,
    "03 01 6A 00  00 07  53  52 03 '1' 00 01  49 03 '0' 00 01  47 03 'Receipts' 00 01  4A 03 '12' 00 01  01",
    r#"<FolderCreate xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>Receipts</DisplayName><Type>12</Type></FolderCreate>"#
)]
// Page 8 MeetingResponse: MeetingResponse(07) Request(09) UserResponse(0C)
// CollectionId(06) RequestId(08).
#[case::page08_meetingresponse(
    V14_1,
    "03 01 6A 00  00 08  47 49  4C 03 '1' 00 01  46 03 '5' 00 01  48 03 '5:11' 00 01  01 01",
    r#"<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>5</CollectionId><RequestId>5:11</RequestId></Request></MeetingResponse>"#
)]
// Page 9 Tasks: Subject(20) Complete(0A).
#[case::page09_tasks(
    V14_1,
    "03 01 6A 00  45 5C 4F 56 47  4D 03 '8:1' 00 01  5D
     00 09  60 03 'Pay rent' 00 01  4A 03 '0' 00 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Tasks="Tasks:"><Collections><Collection><Commands><Add><ServerId>8:1</ServerId><ApplicationData><Tasks:Subject>Pay rent</Tasks:Subject><Tasks:Complete>0</Tasks:Complete></ApplicationData></Add></Commands></Collection></Collections></Sync>"#
)]
// Page 10 ResolveRecipients: ResolveRecipients(05) To(10) Options(0F)
// MaxAmbiguousRecipients(14).
#[case::page10_resolverecipients(
    V14_1,
    "03 01 6A 00  00 0A  45  50 03 'Lee' 00 01  4F  54 03 '3' 00 01  01 01",
    r#"<ResolveRecipients xmlns="ResolveRecipients:"><To>Lee</To><Options><MaxAmbiguousRecipients>3</MaxAmbiguousRecipients></Options></ResolveRecipients>"#
)]
// Page 11 ValidateCert: ValidateCert(05) Certificates(06) Certificate(07) CheckCRL(09).
#[case::page11_validatecert(
    V14_1,
    "03 01 6A 00  00 0B  45 46  47 03 'MIIB' 00 01  01  49 03 '1' 00 01  01",
    r#"<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>MIIB</Certificate></Certificates><CheckCRL>1</CheckCRL></ValidateCert>"#
)]
// Page 13 Ping: Ping(05) HeartbeatInterval(08) Folders(09) Folder(0A) Id(0B) Class(0C).
#[case::page13_ping(
    V14_1,
    "03 01 6A 00  00 0D  45  48 03 '480' 00 01  49 4A  4B 03 '5' 00 01  4C 03 'Email' 00 01  01 01 01",
    r#"<Ping xmlns="Ping:"><HeartbeatInterval>480</HeartbeatInterval><Folders><Folder><Id>5</Id><Class>Email</Class></Folder></Folders></Ping>"#
)]
// Page 14 Provision: Provision(05) Status(0B) RemoteWipe(0C, no content).
#[case::page14_provision(
    V14_1,
    "03 01 6A 00  00 0E  45  4B 03 '1' 00 01  0C  01",
    r#"<Provision xmlns="Provision:"><Status>1</Status><RemoteWipe/></Provision>"#
)]
// Page 14 Provision: Policies(06) Policy(07) PolicyType(08).
#[case::page14_provision_policies(
    V14_1,
    "03 01 6A 00  00 0E  45 46 47  48 03 'MS-EAS-Provisioning-WBXML' 00 01  01 01 01",
    r#"<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>"#
)]
// Page 15 Search: Search(05) Store(07) Name(08) Query(09) Options(0A) Range(0B).
#[case::page15_search(
    V14_1,
    "03 01 6A 00  00 0F  45 47  48 03 'GAL' 00 01  49 03 'lee' 00 01  4A  4B 03 '0-9' 00 01  01 01 01",
    r#"<Search xmlns="Search:"><Store><Name>GAL</Name><Query>lee</Query><Options><Range>0-9</Range></Options></Store></Search>"#
)]
// Page 16 GAL: DisplayName(05) EmailAddress(0F), inside Search Response(0D)
// Store(07) Result(0E) Properties(0F).
#[case::page16_gal(
    V14_1,
    "03 01 6A 00  00 0F  45 4D 47 4E 4F
     00 10  45 03 'Lee Gu' 00 01  4F 03 'leeg@contoso.com' 00 01
     01 01 01 01 01",
    r#"<Search xmlns="Search:" xmlns:GAL="GAL:"><Response><Store><Result><Properties><GAL:DisplayName>Lee Gu</GAL:DisplayName><GAL:EmailAddress>leeg@contoso.com</GAL:EmailAddress></Properties></Result></Store></Response></Search>"#
)]
// Page 17 AirSyncBase: BodyPreference(05) Type(06) TruncationSize(07), in AirSync Options(17).
#[case::page17_airsyncbase(
    V14_1,
    "03 01 6A 00  45 5C 4F  4B 03 '1' 00 01  52 03 '5' 00 01  57
     00 11  45  46 03 '2' 00 01  47 03 '5120' 00 01
     01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:AirSyncBase="AirSyncBase:"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Options><AirSyncBase:BodyPreference><AirSyncBase:Type>2</AirSyncBase:Type><AirSyncBase:TruncationSize>5120</AirSyncBase:TruncationSize></AirSyncBase:BodyPreference></Options></Collection></Collections></Sync>"#
)]
// Page 18 Settings: Settings(05) UserInformation(1D) Get(07, no content).
#[case::page18_settings(
    V14_1,
    "03 01 6A 00  00 12  45 5D 07 01 01",
    r#"<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>"#
)]
// Page 19 DocumentLibrary: LinkId(05), in ItemOperations(05) Fetch(06) Store(07).
#[case::page19_documentlibrary(
    V14_1,
    r"03 01 6A 00  00 14  45 46  47 03 'DocumentLibrary' 00 01
     00 13  45 03 '\\srv\share\a.txt' 00 01
     01 01",
    r#"<ItemOperations xmlns="ItemOperations:" xmlns:DocumentLibrary="DocumentLibrary:"><Fetch><Store>DocumentLibrary</Store><DocumentLibrary:LinkId>\\srv\share\a.txt</DocumentLibrary:LinkId></Fetch></ItemOperations>"#
)]
// Page 20 ItemOperations: ItemOperations(05) Response(0E) Fetch(06) Status(0D)
// Properties(0B) Data(0C) holding OPAQUE 2 bytes "Hi".
#[case::page20_itemoperations_opaque(
    V14_1,
    "03 01 6A 00  00 14  45 4E 46  4D 03 '1' 00 01  4B  4C C3 02 'Hi' 01  01 01 01 01",
    r#"<ItemOperations xmlns="ItemOperations:"><Response><Fetch><Status>1</Status><Properties><Data opaque="base64">SGk=</Data></Properties></Fetch></Response></ItemOperations>"#
)]
// Page 21 ComposeMail: SendMail(05) ClientId(11) SaveInSentItems(08, no
// content) Mime(10) holding OPAQUE 13 bytes.
#[case::page21_composemail(
    V14_1,
    "03 01 6A 00  00 15  45  51 03 '1' 00 01  08  50 C3 0D 'To: a@b' 0D 0A 0D 0A 'hi' 01  01",
    r#"<SendMail xmlns="ComposeMail:"><ClientId>1</ClientId><SaveInSentItems/><Mime opaque="base64">VG86IGFAYg0KDQpoaQ==</Mime></SendMail>"#
)]
// Page 22 Email2: ConversationId(09) holding OPAQUE 4 bytes.
#[case::page22_email2(
    V14_1,
    "03 01 6A 00  45 5C 4F 56 47  4D 03 '5:1' 00 01  5D
     00 16  49 C3 04 01 02 03 04 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Email2="Email2:"><Collections><Collection><Commands><Add><ServerId>5:1</ServerId><ApplicationData><Email2:ConversationId opaque="base64">AQIDBA==</Email2:ConversationId></ApplicationData></Add></Commands></Collection></Collections></Sync>"#
)]
// Page 23 Notes: Subject(05) MessageClass(06).
#[case::page23_notes(
    V14_1,
    "03 01 6A 00  45 5C 4F 56 47  4D 03 '10:1' 00 01  5D
     00 17  45 03 'Ideas' 00 01  46 03 'IPM.StickyNote' 00 01
     01 01 01 01 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:Notes="Notes:"><Collections><Collection><Commands><Add><ServerId>10:1</ServerId><ApplicationData><Notes:Subject>Ideas</Notes:Subject><Notes:MessageClass>IPM.StickyNote</Notes:MessageClass></ApplicationData></Add></Commands></Collection></Collections></Sync>"#
)]
// Page 24 RightsManagement: RightsManagementTemplates(06)
// RightsManagementTemplate(07) TemplateID(14) TemplateName(15), in Settings
// RightsManagementInformation(2B) Get(07).
#[case::page24_rightsmanagement(
    V14_1,
    "03 01 6A 00  00 12  45 6B 47
     00 18  46 47  54 03 'abc' 00 01  55 03 'Do Not Forward' 00 01
     01 01 01 01 01",
    r#"<Settings xmlns="Settings:" xmlns:RightsManagement="RightsManagement:"><RightsManagementInformation><Get><RightsManagement:RightsManagementTemplates><RightsManagement:RightsManagementTemplate><RightsManagement:TemplateID>abc</RightsManagement:TemplateID><RightsManagement:TemplateName>Do Not Forward</RightsManagement:TemplateName></RightsManagement:RightsManagementTemplate></RightsManagement:RightsManagementTemplates></Get></RightsManagementInformation></Settings>"#
)]
// Page 25 Find (16.1 only): Find(05) SearchId(06).
#[case::page25_find(
    V16_1,
    "03 01 6A 00  00 19  45  46 03 '1' 00 01  01",
    r#"<Find xmlns="Find:"><SearchId>1</SearchId></Find>"#
)]
fn page_vector(#[case] version: ProtocolVersion, #[case] wbxml: &str, #[case] xml: &str) {
    check_both_ways(version, Mode::Strict, &bytes(wbxml), xml);
}

/// The FolderSync request of MS-ASWBXML's examples, byte for byte, in both
/// the compact and the indented forms.
#[test]
fn foldersync_request() {
    let wbxml = [
        0x03, 0x01, 0x6A, 0x00, // header
        0x00, 0x07, // SWITCH_PAGE FolderHierarchy
        0x56, // FolderSync (0x16 | content)
        0x52, // SyncKey (0x12 | content)
        0x03, 0x30, 0x00, // STR_I "0"
        0x01, // END SyncKey
        0x01, // END FolderSync
    ];
    let xml = r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#;
    check_both_ways(V14_1, Mode::Strict, &wbxml, xml);
    let indented = decode(&wbxml, &DecodeOptions::strict(V14_1)).unwrap();
    assert_eq!(
        indented,
        format!(
            "{DECL}<FolderSync xmlns=\"FolderHierarchy:\">\n  <SyncKey>0</SyncKey>\n</FolderSync>\n"
        )
    );
    assert_eq!(
        encode(&indented, &EncodeOptions::strict(V14_1)).unwrap(),
        wbxml
    );
}

/// The vectors above together touch every page that has tags.
#[test]
fn vectors_cover_every_page() {
    // Pages named by the cases of `page_vector` and `foldersync_request`.
    let covered = [
        0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    ];
    for page in code_pages() {
        assert_eq!(
            covered.contains(&page.number),
            !page.tags.is_empty(),
            "page {} ({})",
            page.number,
            page.namespace
        );
    }
}

// ---------------------------------------------------------------------------
// The edge forms of the XML form (src/wbxml/mod.rs).
// ---------------------------------------------------------------------------

#[rstest]
// A tag without the content bit is `<T/>`; with it and nothing inside, `<T></T>`.
#[case::empty_tag(
    "03 01 6A 00  45 1C 01",
    r#"<Sync xmlns="AirSync:"><Collections/></Sync>"#
)]
#[case::content_bit_no_content(
    "03 01 6A 00  45 5C 01 01",
    r#"<Sync xmlns="AirSync:"><Collections></Collections></Sync>"#
)]
#[case::empty_root("03 01 6A 00  05", r#"<Sync xmlns="AirSync:"/>"#)]
#[case::root_content_bit_no_content("03 01 6A 00  45 01", r#"<Sync xmlns="AirSync:"></Sync>"#)]
// An empty STR_I.
#[case::empty_string(
    "03 01 6A 00  00 07 56  52 03 00 01  01",
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey><?wbxml str-end?></SyncKey></FolderSync>"#
)]
// Two adjacent STR_I, and three with an empty one in the middle.
#[case::adjacent_strings(
    "03 01 6A 00  00 07 56  52 03 '1' 00 03 '2' 00 01  01",
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>1<?wbxml str-end?>2</SyncKey></FolderSync>"#
)]
#[case::adjacent_strings_empty_middle(
    "03 01 6A 00  00 07 56  52 03 'a' 00 03 00 03 'b' 00 01  01",
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>a<?wbxml str-end?><?wbxml str-end?>b</SyncKey></FolderSync>"#
)]
#[case::empty_string_then_string(
    "03 01 6A 00  00 07 56  52 03 00 03 'b' 00 01  01",
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey><?wbxml str-end?>b</SyncKey></FolderSync>"#
)]
// SWITCH_PAGE a canonical encoder would not write: to the current page,
// before the root or inside an element; before END; before another SWITCH_PAGE.
#[case::redundant_switch_before_root(
    "03 01 6A 00  00 00  05",
    r#"<?wbxml switch-page 0?><Sync xmlns="AirSync:"/>"#
)]
#[case::redundant_switch_inside(
    "03 01 6A 00  45 00 00 1C 01",
    r#"<Sync xmlns="AirSync:"><?wbxml switch-page 0?><Collections/></Sync>"#
)]
#[case::switch_before_end(
    "03 01 6A 00  45 00 01 01",
    r#"<Sync xmlns="AirSync:"><?wbxml switch-page 1?></Sync>"#
)]
#[case::switch_before_switch(
    "03 01 6A 00  00 01 00 00  05",
    r#"<?wbxml switch-page 1?><Sync xmlns="AirSync:"/>"#
)]
// Non-canonical headers: WBXML 1.2; the charset as a 2-byte mb_u_int32; public id 4.
#[case::header_wbxml_1_2(
    "02 01 6A 00  05",
    "<?wbxml header 02016A00?>\n<Sync xmlns=\"AirSync:\"/>"
)]
#[case::header_long_charset(
    "03 01 80 6A 00  05",
    "<?wbxml header 0301806A00?>\n<Sync xmlns=\"AirSync:\"/>"
)]
#[case::header_public_id(
    "03 04 6A 00  05",
    "<?wbxml header 03046A00?>\n<Sync xmlns=\"AirSync:\"/>"
)]
#[case::header_and_redundant_switch(
    "02 01 6A 00  00 00  05",
    "<?wbxml header 02016A00?>\n<?wbxml switch-page 0?><Sync xmlns=\"AirSync:\"/>"
)]
// OPAQUE as the whole content: an attribute; empty; on the root.
#[case::opaque_attribute(
    "03 01 6A 00  45 4B C3 03 01 02 03 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey opaque="base64">AQID</SyncKey></Sync>"#
)]
#[case::opaque_empty(
    "03 01 6A 00  45 4B C3 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey opaque="base64"></SyncKey></Sync>"#
)]
#[case::opaque_root(
    "03 01 6A 00  45 C3 01 'A' 01",
    r#"<Sync xmlns="AirSync:" opaque="base64">QQ==</Sync>"#
)]
// OPAQUE next to text or another OPAQUE: an instruction.
#[case::opaque_after_text(
    "03 01 6A 00  45 4B 03 'abc' 00 C3 03 01 02 03 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey>abc<?wbxml opaque AQID?></SyncKey></Sync>"#
)]
#[case::opaque_between_texts(
    "03 01 6A 00  45 4B 03 'a' 00 C3 01 01 03 'b' 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey>a<?wbxml opaque AQ==?>b</SyncKey></Sync>"#
)]
#[case::two_opaques(
    "03 01 6A 00  45 4B C3 01 01 C3 01 02 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml opaque AQ==?><?wbxml opaque Ag==?></SyncKey></Sync>"#
)]
// A string of only whitespace is written entirely as character references.
#[case::one_space(
    "03 01 6A 00  45 4B 03 20 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey>&#32;</SyncKey></Sync>"#
)]
#[case::all_whitespace(
    "03 01 6A 00  45 4B 03 09 0A 0D 20 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey>&#9;&#10;&#13;&#32;</SyncKey></Sync>"#
)]
#[case::whitespace_after_child(
    "03 01 6A 00  45 4B 0C 03 20 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey><ClientId/>&#32;</SyncKey></Sync>"#
)]
// Leading and trailing whitespace around other text is literal.
#[case::surrounding_spaces(
    "03 01 6A 00  45 4B 03 ' a ' 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey> a </SyncKey></Sync>"#
)]
// CR (which XML parsers would normalise) as &#13;; LF and tab literal.
#[case::crlf(
    "03 01 6A 00  45 4B 03 'a' 0D 0A 'b' 00 01 01",
    "<Sync xmlns=\"AirSync:\"><SyncKey>a&#13;\nb</SyncKey></Sync>"
)]
#[case::lone_cr(
    "03 01 6A 00  45 4B 03 'a' 0D 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey>a&#13;</SyncKey></Sync>"#
)]
#[case::leading_newline(
    "03 01 6A 00  45 4B 03 0A '  a' 00 01 01",
    "<Sync xmlns=\"AirSync:\"><SyncKey>\n  a</SyncKey></Sync>"
)]
// Other control characters as references; tab and DEL literal.
#[case::control_characters(
    "03 01 6A 00  45 4B 03 'a' 01 'b' 09 'c' 1F 'd' 7F 00 01 01",
    "<Sync xmlns=\"AirSync:\"><SyncKey>a&#1;b\tc&#31;d\u{7f}</SyncKey></Sync>"
)]
// &, < and > escaped; quotes not.
#[case::escaping(
    r#"03 01 6A 00  45 4B 03 'a&b<c>d"e' 27 'f]]>' 00 01 01"#,
    r#"<Sync xmlns="AirSync:"><SyncKey>a&amp;b&lt;c&gt;d"e'f]]&gt;</SyncKey></Sync>"#
)]
// Non-ASCII text, including a non-breaking space alone (not XML whitespace).
#[case::utf8(
    "03 01 6A 00  45 4B 03 C3 A9 E2 80 93 F0 9F 93 85 00 0C 03 C2 A0 00 01 01",
    "<Sync xmlns=\"AirSync:\"><SyncKey>é–📅<ClientId/>\u{a0}</SyncKey></Sync>"
)]
// Mixed content: text, then a child, then text.
#[case::mixed_content(
    "03 01 6A 00  45 03 'a' 00 4B 01 03 'b' 00 01",
    r#"<Sync xmlns="AirSync:">a<SyncKey></SyncKey>b</Sync>"#
)]
fn edge_form(#[case] wbxml: &str, #[case] xml: &str) {
    check_both_ways(V14_1, Mode::Strict, &bytes(wbxml), xml);
    // Indented output encodes to the same bytes, too.
    let wbxml = bytes(wbxml);
    let indented = decode(&wbxml, &DecodeOptions::strict(V14_1)).unwrap();
    assert_eq!(
        hex(&encode(&indented, &EncodeOptions::strict(V14_1)).unwrap()),
        hex(&wbxml),
        "indented form:\n{indented}"
    );
}

/// What the encoder accepts besides the decoder's own form.
#[rstest]
// Literal whitespace as the whole one-line content is a string.
#[case::one_line_space(
    r#"<Sync xmlns="AirSync:"><SyncKey> </SyncKey></Sync>"#,
    "03 01 6A 00  45 4B 03 20 00 01 01"
)]
// Literal whitespace with a newline is formatting: content bit, no string.
#[case::newline_is_formatting(
    "<Sync xmlns=\"AirSync:\"><SyncKey>\n  </SyncKey></Sync>",
    "03 01 6A 00  45 4B 01 01"
)]
// XML end-of-line handling: a literal CR LF in the source is one LF.
#[case::literal_crlf(
    "<Sync xmlns=\"AirSync:\"><SyncKey>a\r\nb</SyncKey></Sync>",
    "03 01 6A 00  45 4B 03 'a' 0A 'b' 00 01 01"
)]
// Predefined entities, hex character references and CDATA are content.
#[case::entities(
    r#"<Sync xmlns="AirSync:"><SyncKey>&quot;&apos;&#x41;<![CDATA[<&>]]></SyncKey></Sync>"#,
    r#"03 01 6A 00  45 4B 03 '"' 27 'A<&>' 00 01 01"#
)]
// Comments are transparent: the text on both sides is one string.
#[case::comment_inside_text(
    r#"<Sync xmlns="AirSync:"><SyncKey>a<!-- x -->b</SyncKey></Sync>"#,
    "03 01 6A 00  45 4B 03 'ab' 00 01 01"
)]
// libwbxml's form: the default namespace redeclared on each element.
#[case::per_element_default_namespace(
    r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey xmlns="FolderHierarchy:">0</SyncKey></FolderSync>"#,
    "03 01 6A 00  00 07 56 52 03 '0' 00 01 01"
)]
// Any prefix; namespace URIs case-insensitive, the colon optional.
#[case::prefixes_and_uri_spelling(
    r#"<a:Sync xmlns:a="airsync" xmlns:c="CONTACTS:"><a:Collections><c:FirstName>x</c:FirstName></a:Collections></a:Sync>"#,
    "03 01 6A 00  45 5C 00 01 5F 03 'x' 00 01 01 01"
)]
// Base64 in an opaque element may be wrapped.
#[case::wrapped_base64(
    "<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">\n  AQID\n  BA==\n</SyncKey></Sync>",
    "03 01 6A 00  45 4B C3 04 01 02 03 04 01 01"
)]
// An empty opaque element written as `<T opaque="base64"/>`.
#[case::empty_opaque_self_closing(
    r#"<Sync xmlns="AirSync:"><SyncKey opaque="base64"/></Sync>"#,
    "03 01 6A 00  45 4B C3 00 01 01"
)]
fn encoder_accepts(#[case] xml: &str, #[case] wbxml: &str) {
    check_encodes_to(V14_1, xml, &bytes(wbxml));
}

/// The one lossy case: an OPAQUE length with needless leading 0x80 bytes
/// decodes like the minimal one and re-encodes minimally.
#[test]
fn non_minimal_opaque_length_reencodes_minimally() {
    let long = bytes("03 01 6A 00  45 4B C3 80 80 02 'Hi' 01 01");
    let minimal = bytes("03 01 6A 00  45 4B C3 02 'Hi' 01 01");
    let opts = compact(V14_1, Mode::Strict);
    let xml = decode(&long, &opts).unwrap();
    assert_eq!(xml, decode(&minimal, &opts).unwrap());
    assert_eq!(
        xml,
        format!(
            "{DECL}<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">SGk=</SyncKey></Sync>\n"
        )
    );
    assert_eq!(
        encode(&xml, &EncodeOptions::strict(V14_1)).unwrap(),
        minimal
    );
}

/// A 200-byte OPAQUE: the length takes two mb_u_int32 bytes (81 48).
#[test]
fn two_byte_opaque_length() {
    let data: Vec<u8> = (0..200u8).collect();
    let mut wbxml = bytes("03 01 6A 00  00 15 45 50 C3 81 48");
    wbxml.extend_from_slice(&data);
    wbxml.extend_from_slice(&[0x01, 0x01]);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let xml =
        format!(r#"<SendMail xmlns="ComposeMail:"><Mime opaque="base64">{b64}</Mime></SendMail>"#);
    check_both_ways(V14_1, Mode::Strict, &wbxml, &xml);
}

// ---------------------------------------------------------------------------
// Lenient mode: unknown tags and bytes that are not UTF-8 stay visible.
// ---------------------------------------------------------------------------

#[rstest]
// AirSync has no token 0x11.
#[case::unknown_token(
    "03 01 6A 00  45 51 03 'a' 00 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:unknown page="0" token="0x11">a</wbxml:unknown></Sync>"#
)]
#[case::unknown_empty_token(
    "03 01 6A 00  45 11 01",
    r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:unknown page="0" token="0x11"/></Sync>"#
)]
// Page 3 (AirNotify) has no tags; page 26 does not exist.
#[case::unknown_page_root(
    "03 01 6A 00  00 03 45 01",
    r#"<wbxml:unknown page="3" token="0x05" xmlns:wbxml="urn:eastest:wbxml"></wbxml:unknown>"#
)]
#[case::unknown_page_child(
    "03 01 6A 00  45 00 1A 45 01 01",
    r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:unknown page="26" token="0x05"></wbxml:unknown></Sync>"#
)]
// A known tag inside an unknown root is prefixed by its page name.
#[case::known_inside_unknown(
    "03 01 6A 00  00 03 45 00 00 4B 03 '1' 00 01 01",
    r#"<wbxml:unknown page="3" token="0x05" xmlns:AirSync="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><AirSync:SyncKey>1</AirSync:SyncKey></wbxml:unknown>"#
)]
// Invalid UTF-8 in a STR_I.
#[case::invalid_utf8(
    "03 01 6A 00  45 4B 03 FF 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml str-bytes /w==?></SyncKey></Sync>"#
)]
#[case::invalid_utf8_inside_text(
    "03 01 6A 00  45 4B 03 'a' FF 'b' 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml str-bytes Yf9i?></SyncKey></Sync>"#
)]
#[case::invalid_utf8_then_text(
    "03 01 6A 00  45 4B 03 C3 00 03 'x' 00 01 01",
    r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml str-bytes ww==?>x</SyncKey></Sync>"#
)]
fn lenient_vector(#[case] wbxml: &str, #[case] xml: &str) {
    let wbxml = bytes(wbxml);
    check_both_ways(V14_1, Mode::Lenient, &wbxml, xml);
    // Strict mode refuses both directions.
    assert!(decode(&wbxml, &compact(V14_1, Mode::Strict)).is_err());
    if xml.contains("wbxml:unknown") {
        let err = encode(xml, &EncodeOptions::strict(V14_1)).unwrap_err();
        assert_eq!(err.kind, EncodeErrorKind::UnknownTagStrict);
    }
}

#[test]
fn lenient_unknown_tag_with_opaque_content() {
    let wbxml = bytes("03 01 6A 00  45 51 C3 01 'A' 01 01");
    check_both_ways(
        V14_1,
        Mode::Lenient,
        &wbxml,
        r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:unknown page="0" token="0x11" opaque="base64">QQ==</wbxml:unknown></Sync>"#,
    );
}

// ---------------------------------------------------------------------------
// Version gating.
// ---------------------------------------------------------------------------

mod version_gating {
    use super::*;

    /// `<Find xmlns="Find:"><SearchId>1</SearchId></Find>`: Find (page 25)
    /// exists in 16.1 only.
    const FIND: &str = "03 01 6A 00  00 19  45  46 03 '1' 00 01  01";
    const FIND_XML: &str = r#"<Find xmlns="Find:"><SearchId>1</SearchId></Find>"#;

    #[test]
    fn find_is_16_1_only_when_decoding() {
        let wbxml = bytes(FIND);
        for v in [V14_1, V16_0, V12_1] {
            let err = decode(&wbxml, &DecodeOptions::strict(v)).unwrap_err();
            assert_eq!(err.offset, 6, "the Find tag byte");
            assert_eq!(err.path, "");
            match &err.kind {
                DecodeErrorKind::NotInVersion {
                    page,
                    token,
                    namespace,
                    name,
                    version,
                    versions,
                } => {
                    assert_eq!((*page, *token), (25, 0x05));
                    assert_eq!((*namespace, *name), ("Find", "Find"));
                    assert_eq!(*version, v);
                    assert_eq!(*versions, VersionSet::from_bits(V16_1.bit()));
                }
                other => panic!("{v}: expected NotInVersion, got {other:?}"),
            }
            let msg = err.to_string();
            assert!(msg.contains("code page 25"), "{msg}");
            assert!(msg.contains("Find:Find"), "{msg}");
        }
        check_both_ways(V16_1, Mode::Strict, &wbxml, FIND_XML);
        // Lenient mode keeps out-of-version tags with their names.
        check_both_ways(V14_1, Mode::Lenient, &wbxml, FIND_XML);
    }

    #[test]
    fn find_is_16_1_only_when_encoding() {
        for v in [V14_1, V16_0] {
            let err = encode(FIND_XML, &EncodeOptions::strict(v)).unwrap_err();
            assert_eq!((err.line, err.column), (1, 1));
            match &err.kind {
                EncodeErrorKind::NotInVersion {
                    namespace,
                    name,
                    version,
                    versions,
                } => {
                    assert_eq!((*namespace, *name), ("Find", "Find"));
                    assert_eq!(*version, v);
                    assert_eq!(*versions, VersionSet::from_bits(V16_1.bit()));
                }
                other => panic!("{v}: expected NotInVersion, got {other:?}"),
            }
        }
        assert_eq!(
            encode(FIND_XML, &EncodeOptions::strict(V16_1)).unwrap(),
            bytes(FIND)
        );
        assert_eq!(
            encode(FIND_XML, &EncodeOptions::lenient(V14_1)).unwrap(),
            bytes(FIND)
        );
    }

    /// A Sync Change whose ApplicationData holds one tag of `page`.
    fn sync_change(page: &str, tag: &str) -> String {
        format!(
            "03 01 6A 00  45 5C 4F 56 48  4D 03 '1:1' 00 01  5D  00 {page} {tag} 03 'Room 1' 00 01  01 01 01 01 01 01"
        )
    }

    /// Email:Location (page 2, 0x21) and Calendar:Location (page 4, 0x17)
    /// were replaced by AirSyncBase:Location in 16.0.
    #[rstest]
    #[case::email_location("02", 0x21, "Email")]
    #[case::calendar_location("04", 0x17, "Calendar")]
    fn location_removed_in_16_0(#[case] page: &str, #[case] token: u8, #[case] ns: &str) {
        let wbxml = bytes(&sync_change(page, &format!("{:02X}", token | 0x40)));
        let xml = format!(
            r#"<Sync xmlns="AirSync:" xmlns:{ns}="{ns}:"><Collections><Collection><Commands><Change><ServerId>1:1</ServerId><ApplicationData><{ns}:Location>Room 1</{ns}:Location></ApplicationData></Change></Commands></Collection></Collections></Sync>"#
        );
        check_both_ways(V14_1, Mode::Strict, &wbxml, &xml);
        for v in [V16_0, V16_1] {
            let err = decode(&wbxml, &DecodeOptions::strict(v)).unwrap_err();
            assert_eq!(err.offset, 19, "the Location tag byte");
            assert_eq!(
                err.path,
                "Sync/Collections/Collection/Commands/Change/ApplicationData"
            );
            assert!(
                matches!(
                    err.kind,
                    DecodeErrorKind::NotInVersion { page: p, token: t, name: "Location", version, .. }
                        if p == u8::from_str_radix(page, 16).unwrap() && t == token && version == v
                ),
                "{v}: {err}"
            );
            let err = encode(&xml, &EncodeOptions::strict(v)).unwrap_err();
            assert!(
                matches!(
                    err.kind,
                    EncodeErrorKind::NotInVersion { namespace, name: "Location", version, .. }
                        if namespace == ns && version == v
                ),
                "{v}: {err}"
            );
            check_both_ways(v, Mode::Lenient, &wbxml, &xml);
        }
    }

    /// The replacement, AirSyncBase:Location (page 17, 0x20), is 16.0+ only.
    #[test]
    fn airsyncbase_location_added_in_16_0() {
        let wbxml = bytes(&sync_change("11", "60"));
        let xml = r#"<Sync xmlns="AirSync:" xmlns:AirSyncBase="AirSyncBase:"><Collections><Collection><Commands><Change><ServerId>1:1</ServerId><ApplicationData><AirSyncBase:Location>Room 1</AirSyncBase:Location></ApplicationData></Change></Commands></Collection></Collections></Sync>"#;
        check_both_ways(V16_0, Mode::Strict, &wbxml, xml);
        check_both_ways(V16_1, Mode::Strict, &wbxml, xml);
        let err = decode(&wbxml, &DecodeOptions::strict(V14_1)).unwrap_err();
        assert!(
            matches!(
                err.kind,
                DecodeErrorKind::NotInVersion {
                    page: 17,
                    token: 0x20,
                    ..
                }
            ),
            "{err}"
        );
        assert!(encode(xml, &EncodeOptions::strict(V14_1)).is_err());
    }

    /// Provision:MaxDevicePasswordFailedAttempts (0x16) exists up to 16.0.
    #[test]
    fn tag_removed_in_16_1() {
        let wbxml = bytes("03 01 6A 00  00 0E 45 56 03 '8' 00 01 01");
        let xml = r#"<Provision xmlns="Provision:"><MaxDevicePasswordFailedAttempts>8</MaxDevicePasswordFailedAttempts></Provision>"#;
        check_both_ways(V16_0, Mode::Strict, &wbxml, xml);
        let err = decode(&wbxml, &DecodeOptions::strict(V16_1)).unwrap_err();
        assert_eq!(err.offset, 7);
        assert!(matches!(
            err.kind,
            DecodeErrorKind::NotInVersion {
                page: 14,
                token: 0x16,
                ..
            }
        ));
        assert!(encode(xml, &EncodeOptions::strict(V16_1)).is_err());
    }

    /// Every tag of the table, alone as a root without content, in every
    /// version: strict mode accepts it exactly in the versions the table
    /// lists, in both directions; lenient mode always.
    #[test]
    fn every_tag_in_every_version() {
        let mut checked = 0;
        for page in code_pages() {
            for tag in page.tags {
                let mut wbxml = vec![0x03, 0x01, 0x6A, 0x00];
                if page.number != 0 {
                    wbxml.extend_from_slice(&[0x00, page.number]);
                }
                wbxml.push(tag.token);
                let xml = format!("<{} xmlns=\"{}\"/>", tag.name, page.uri);
                for v in ProtocolVersion::ALL {
                    let exists = tag.versions.contains(v);
                    let decoded = decode(&wbxml, &compact(v, Mode::Strict));
                    let encoded = encode(&xml, &EncodeOptions::strict(v));
                    if exists {
                        assert_eq!(decoded.unwrap(), format!("{DECL}{xml}\n"));
                        assert_eq!(encoded.unwrap(), wbxml);
                    } else {
                        assert!(
                            matches!(decoded, Err(ref e) if matches!(e.kind, DecodeErrorKind::NotInVersion { .. })),
                            "{}:{} in {v}: {decoded:?}",
                            page.namespace,
                            tag.name
                        );
                        assert!(
                            matches!(encoded, Err(ref e) if matches!(e.kind, EncodeErrorKind::NotInVersion { .. })),
                            "{}:{} in {v}: {encoded:?}",
                            page.namespace,
                            tag.name
                        );
                    }
                    check_both_ways(v, Mode::Lenient, &wbxml, &xml);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 586 * 7);
    }
}
