/** Words, numbers and dates of the console in Vietnamese (the default) and English. */

export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const LANGUAGE_KEY = 'lienthong.console.language';

const STRINGS = {
  vi: {
    appName: 'Liên Thông · Bảng điều khiển nhà vận hành',
    skipToContent: 'Bỏ qua, đến nội dung',
    switchLanguage: 'English',
    switchLanguageLabel: 'Switch to English',
    signIn: 'Đăng nhập',
    signInTitle: 'Đăng nhập cho nhân viên nhà vận hành và quản trị',
    email: 'Email',
    password: 'Mật khẩu',
    signOut: 'Đăng xuất',
    signedInAs: 'Đăng nhập: {name} ({role})',
    roleAdmin: 'quản trị',
    roleOperator: 'nhân viên {operator}',
    notForThisRole: 'Bảng điều khiển này dành cho nhân viên nhà vận hành và quản trị.',
    nav: 'Điều hướng chính',
    navDay: 'Ngày',
    navTrend: 'Xu hướng 30 ngày',
    navDevices: 'Thiết bị',
    navDenylist: 'Danh sách chặn',
    date: 'Ngày',
    operator: 'Nhà vận hành',
    wholeScheme: 'Toàn mạng',
    show: 'Xem',
    loading: 'Đang tải…',
    error: 'Lỗi',
    dayTitle: 'Đối soát ngày {date}',
    statusOpen: 'Đang mở',
    statusClosed: 'Đã chốt lúc {at}',
    closeDay: 'Chốt ngày',
    closeDayConfirm: 'Chốt ngày {date}? Bảng kê được đóng băng; các giao dịch đến muộn sẽ vào ngày mở tiếp theo dưới dạng điều chỉnh.',
    confirm: 'Xác nhận',
    cancel: 'Huỷ',
    dayClosed: 'Đã chốt ngày {date}.',
    downloads: 'Tải xuống',
    downloadCsv: 'Bảng kê (CSV)',
    downloadTidesCsv: 'Giao dịch TIDES (CSV)',
    downloadTidesJson: 'Giao dịch TIDES (JSON)',
    check: 'Kiểm tra cân đối',
    checkRevenue: 'Doanh thu',
    checkAdjustments: 'Điều chỉnh',
    checkAllocated: 'Đã phân bổ',
    checkUnallocated: 'Chưa phân bổ',
    balanced: 'Cân đối đến từng đồng',
    notBalanced: 'KHÔNG cân đối',
    checkScope: 'Các tổng của phép kiểm tra là của toàn mạng.',
    revenueByKind: 'Doanh thu theo loại vé',
    singleTickets: 'Vé lượt',
    passDayParts: 'Vé tháng (phần trong ngày)',
    payAsYouGo: 'Trả theo chuyến',
    total: 'Tổng',
    revenueByMode: 'Phân bổ theo phương thức',
    mode: 'Phương thức',
    modes: { metro: 'Đường sắt đô thị', brt: 'BRT', bus: 'Xe buýt' },
    allocatedByOperator: 'Phân bổ theo nhà vận hành',
    byAllocationKey: 'Doanh thu vé liên thông theo khoá phân bổ',
    allocationKey: 'Khoá phân bổ',
    keys: { trips: 'Theo lượt đi', passenger_km: 'Theo hành khách-km', fixed_shares: 'Tỷ lệ cố định' },
    passesUsed: 'Vé đã dùng',
    unallocatedNote: 'Chưa phân bổ (vé chưa dùng trong ngày): {amount}',
    tapsByHour: 'Lượt quẹt theo giờ',
    hour: 'Giờ',
    accepted: 'Chấp nhận',
    rejected: 'Từ chối',
    tapsByStation: 'Lượt quẹt theo ga dọc tuyến',
    line: 'Tuyến',
    station: 'Ga / điểm dừng',
    entries: 'Vào',
    exits: 'Ra',
    rejectedByReason: 'Lượt quẹt bị từ chối theo lý do',
    reason: 'Lý do',
    taps: 'Lượt quẹt',
    revenueAtRisk: 'Doanh thu có rủi ro (quẹt ngoại tuyến được chấp nhận nhưng không hợp lệ)',
    fareAtRisk: 'Giá vé có rủi ro',
    freeRides: 'Chuyến đi miễn phí',
    rides: 'Chuyến',
    passengerKm: 'Hành khách-km',
    none: 'Không có',
    showData: 'Xem số liệu',
    chartSummary: '{title}: {summary}',
    trendTitle: 'Xu hướng 30 ngày đến {date}',
    revenue: 'Doanh thu',
    allocated: 'Đã phân bổ',
    unallocated: 'Chưa phân bổ',
    status: 'Trạng thái',
    devicesTitle: 'Thiết bị soát vé ngày {date}',
    device: 'Thiết bị',
    kind: 'Loại',
    kinds: { gate: 'Cổng', bus: 'Máy trên xe' },
    lastTap: 'Lượt quẹt cuối',
    rejectionShare: 'Tỷ lệ từ chối',
    offlineShare: 'Tải lên ngoại tuyến',
    noTap: 'Chưa có lượt quẹt',
    disabled: 'Đã vô hiệu hoá',
    needsAttention: 'Cần kiểm tra',
    working: 'Bình thường',
    disable: 'Vô hiệu hoá',
    disableConfirm: 'Vô hiệu hoá thiết bị {device}? Mã truy cập của thiết bị ngừng hoạt động ngay lập tức.',
    deviceDisabled: 'Đã vô hiệu hoá {device}.',
    attentionRule: 'Cần kiểm tra: từ 20% lượt quẹt bị từ chối (ít nhất 5 lượt), hoặc không có lượt quẹt nào trong ngày.',
    denylistTitle: 'Danh sách chặn và phương tiện bị khoá',
    denylistIntro: 'Vé bị thu hồi và tài khoản bị chặn tại cổng, như các thiết bị soát vé nhận qua GET /v1/denylist.',
    entryKind: 'Loại',
    entryKinds: { ticket: 'Vé', account: 'Tài khoản' },
    id: 'Mã',
    at: 'Thời điểm',
    statuses: { revoked: 'Thu hồi', blocked: 'Bị chặn', unblocked: 'Đã bỏ chặn' },
    adminOnly: 'Chỉ quản trị viên xem được trang này.',
    blockAccount: 'Chặn / bỏ chặn tài khoản tại cổng',
    accountId: 'Mã tài khoản',
    blockReason: 'Lý do',
    block: 'Chặn',
    unblock: 'Bỏ chặn',
    savedDenylist: 'Đã lưu. Thay đổi xuất hiện trong danh sách chặn sau vài giây.',
  },
  en: {
    appName: "Liên Thông · Operators' console",
    skipToContent: 'Skip to content',
    switchLanguage: 'Tiếng Việt',
    switchLanguageLabel: 'Chuyển sang tiếng Việt',
    signIn: 'Sign in',
    signInTitle: 'Sign in for operator staff and admins',
    email: 'Email',
    password: 'Password',
    signOut: 'Sign out',
    signedInAs: 'Signed in: {name} ({role})',
    roleAdmin: 'admin',
    roleOperator: '{operator} staff',
    notForThisRole: 'This console is for operator staff and admins.',
    nav: 'Main navigation',
    navDay: 'Day',
    navTrend: '30-day trend',
    navDevices: 'Devices',
    navDenylist: 'Deny list',
    date: 'Date',
    operator: 'Operator',
    wholeScheme: 'Whole scheme',
    show: 'Show',
    loading: 'Loading…',
    error: 'Error',
    dayTitle: 'Reconciling {date}',
    statusOpen: 'Open',
    statusClosed: 'Closed at {at}',
    closeDay: 'Close the day',
    closeDayConfirm: 'Close {date}? The statement is frozen; events that arrive later land in the next open day as adjustments.',
    confirm: 'Confirm',
    cancel: 'Cancel',
    dayClosed: '{date} is closed.',
    downloads: 'Downloads',
    downloadCsv: 'Statement (CSV)',
    downloadTidesCsv: 'TIDES fare transactions (CSV)',
    downloadTidesJson: 'TIDES fare transactions (JSON)',
    check: 'The check',
    checkRevenue: 'Revenue',
    checkAdjustments: 'Adjustments',
    checkAllocated: 'Allocated',
    checkUnallocated: 'Unallocated',
    balanced: 'Balances to the đồng',
    notBalanced: 'Does NOT balance',
    checkScope: 'The totals of the check are scheme-wide.',
    revenueByKind: 'Revenue by product kind',
    singleTickets: 'Single tickets',
    passDayParts: "Passes (the day's part)",
    payAsYouGo: 'Pay as you go',
    total: 'Total',
    revenueByMode: 'Allocated by mode',
    mode: 'Mode',
    modes: { metro: 'Metro', brt: 'BRT', bus: 'Bus' },
    allocatedByOperator: 'Allocated by operator',
    byAllocationKey: 'Network pass revenue by allocation key',
    allocationKey: 'Allocation key',
    keys: { trips: 'By trips', passenger_km: 'By passenger-km', fixed_shares: 'Fixed shares' },
    passesUsed: 'Passes used',
    unallocatedNote: 'Unallocated (passes not used that day): {amount}',
    tapsByHour: 'Taps per hour',
    hour: 'Hour',
    accepted: 'Accepted',
    rejected: 'Rejected',
    tapsByStation: 'Taps per station along each line',
    line: 'Line',
    station: 'Station / stop',
    entries: 'Entries',
    exits: 'Exits',
    rejectedByReason: 'Rejected taps by reason',
    reason: 'Reason',
    taps: 'Taps',
    revenueAtRisk: 'Revenue at risk (offline taps accepted but invalid)',
    fareAtRisk: 'Fare at risk',
    freeRides: 'Free rides',
    rides: 'Rides',
    passengerKm: 'Passenger-km',
    none: 'None',
    showData: 'Show the figures',
    chartSummary: '{title}: {summary}',
    trendTitle: '30 days up to {date}',
    revenue: 'Revenue',
    allocated: 'Allocated',
    unallocated: 'Unallocated',
    status: 'Status',
    devicesTitle: 'Validators on {date}',
    device: 'Device',
    kind: 'Kind',
    kinds: { gate: 'Gate', bus: 'Bus validator' },
    lastTap: 'Last tap',
    rejectionShare: 'Rejected',
    offlineShare: 'Uploaded offline',
    noTap: 'No tap yet',
    disabled: 'Disabled',
    needsAttention: 'Needs attention',
    working: 'Working',
    disable: 'Disable',
    disableConfirm: 'Disable {device}? Its tokens stop working at once.',
    deviceDisabled: '{device} is disabled.',
    attentionRule: 'Needs attention: 20% or more of its taps rejected (5 taps at least), or no tap that day.',
    denylistTitle: 'Deny list and blocked media',
    denylistIntro: 'Revoked tickets and accounts blocked at the gates, as validators receive them from GET /v1/denylist.',
    entryKind: 'Kind',
    entryKinds: { ticket: 'Ticket', account: 'Account' },
    id: 'Id',
    at: 'At',
    statuses: { revoked: 'Revoked', blocked: 'Blocked', unblocked: 'Unblocked' },
    adminOnly: 'Only admins can see this page.',
    blockAccount: 'Block or unblock an account at the gates',
    accountId: 'Account id',
    blockReason: 'Reason',
    block: 'Block',
    unblock: 'Unblock',
    savedDenylist: 'Saved. The change shows in the deny list within a few seconds.',
  },
};

let language = localStorage.getItem(LANGUAGE_KEY) === 'en' ? 'en' : 'vi';

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  language = next === 'en' ? 'en' : 'vi';
  localStorage.setItem(LANGUAGE_KEY, language);
  document.documentElement.lang = language;
}

/** The string `key` (a dotted path for nested ones) with `{name}` placeholders filled in. */
export function t(key, params = {}) {
  const value = key.split('.').reduce((node, part) => (node === undefined ? undefined : node[part]), STRINGS[language]);
  const text = typeof value === 'string' ? value : key.split('.').pop();
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] === undefined ? `{${name}}` : String(params[name])));
}

const dong = new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND' });

/** An amount in đồng as Vietnamese readers write it, whatever the console's language: `18.625 ₫`. */
export function formatDong(amount) {
  return dong.format(amount);
}

const locale = () => (language === 'en' ? 'en-GB' : 'vi-VN');

export function formatCount(count) {
  return new Intl.NumberFormat(locale()).format(count);
}

export function formatShare(share) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(share);
}

/** An instant in the scheme's zone, whatever the zone of the computer showing it. */
export function formatInstant(iso) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium', timeZone: TIME_ZONE }).format(new Date(iso));
}

/** A local date YYYY-MM-DD as a reader of the language writes it. */
export function formatLocalDate(date) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'full', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

/** Today in Asia/Ho_Chi_Minh, as YYYY-MM-DD. */
export function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
