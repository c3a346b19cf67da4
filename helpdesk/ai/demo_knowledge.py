"""The demo tenant's knowledge: what a small online shop's customers ask most, in English and
Chinese, so the bot has something real to answer from with no API key, and the evaluation
(``manage.py eval_bot``, helpdesk/ai/evaluation/demo_questions.jsonl) has something to measure."""

DEMO_ARTICLES = (
    {
        "question": "Hello! What can you help me with? / 你好，你能帮我做什么？",
        "answer": (
            "Hi! I'm Demo Shop's assistant. I can answer questions about shipping, returns, "
            'payment, order tracking, warranty and our opening hours. Type "human" at any '
            "time to talk to a person.\n\n"
            "你好！我是 Demo Shop 的智能助手，可以解答配送、退换货、付款、订单查询、保修和营业"
            "时间等问题。随时输入“人工”即可转接人工客服。"
        ),
        "keywords": "hi, hello, hey, good morning, good afternoon, help, what can you do, "
        "你好, 您好, 在吗, 在不在, 哈喽, 帮助",
    },
    {
        "question": "How long does shipping take and what does it cost? / 多久发货？运费多少？",
        "answer": (
            "Orders placed before 3 pm on a weekday ship the same day. Standard delivery takes "
            "3–5 business days within mainland China and 7–14 days internationally. Shipping "
            "is free on orders over ¥199; below that it costs ¥12.\n\n"
            "工作日下午 3 点前下单当天发货。中国大陆标准配送 3–5 个工作日送达，国际订单 7–14 "
            "天。订单满 199 元包邮，不满 199 元运费 12 元。"
        ),
        "keywords": "shipping, ship, delivery, deliver, postage, shipping cost, free shipping, "
        "international, how long, arrive, dispatch, 发货, 配送, 快递, 运费, 包邮, 多久到, 送达, "
        "邮费, 国际",
    },
    {
        "question": "How do I return an item or get a refund? / 怎么退货、退款？",
        "answer": (
            "You can return unused items in their original packaging within 30 days of "
            "delivery. Go to My Orders → Return, choose the item and print the prepaid label. "
            "We refund to your original payment method within 5 business days of receiving "
            "the parcel. Sale items can be exchanged but not refunded.\n\n"
            "商品签收后 30 天内，未使用且包装完好即可退货。在“我的订单 → 申请退货”中选择商品并"
            "打印预付运单。我们收到退件后 5 个工作日内原路退款。特价商品只换不退。"
        ),
        "keywords": "return, refund, money back, send back, exchange, wrong size, 退货, 退款, "
        "退换, 换货, 退钱, 七天无理由, 不想要了, 尺码不对",
    },
    {
        "question": "What are your opening hours? / 你们的营业时间是几点到几点？",
        "answer": (
            "Our customer service team is here Monday to Friday 9:00–18:00 and Saturday "
            "10:00–16:00 (China Standard Time, UTC+8); we are closed on Sundays and public "
            "holidays. This chat assistant answers around the clock, and our Shanghai store "
            "(88 Nanjing Road) opens daily 10:00–21:00.\n\n"
            "人工客服服务时间：周一至周五 9:00–18:00，周六 10:00–16:00（北京时间），周日及法定"
            "节假日休息。智能助手 24 小时在线。上海门店（南京路 88 号）每天 10:00–21:00 营业。"
        ),
        "keywords": "opening hours, open, close, closed, hours, business hours, weekend, "
        "sunday, holiday, store, 营业时间, 几点, 开门, 关门, 上班, 下班, 周末, 节假日, 门店, 营业",
    },
    {
        "question": "Which payment methods do you accept? / 支持哪些付款方式？",
        "answer": (
            "We accept Visa, Mastercard, American Express, PayPal, Alipay, WeChat Pay and "
            "UnionPay. Payment is taken when you place the order over an encrypted connection, "
            "and we never store your full card number. Business customers can ask for an "
            "invoice at checkout.\n\n"
            "我们支持 Visa、Mastercard、American Express、PayPal、支付宝、微信支付和银联。下单"
            "时完成付款，所有支付均经加密连接处理，我们不会保存您的完整卡号。企业客户可在结算时"
            "申请开具发票。"
        ),
        "keywords": "payment, pay, credit card, debit card, card, paypal, alipay, wechat pay, "
        "unionpay, invoice, checkout, 付款, 支付, 支付宝, 微信支付, 银联, 信用卡, 发票, 付钱",
    },
    {
        "question": "Where is my order? How can I track it? / 我的订单到哪了？怎么查物流？",
        "answer": (
            "As soon as your parcel ships we e-mail you a tracking number, and you can see its "
            "status any time under My Orders → Track. Tracking can take up to 24 hours to show "
            "the first scan. If it has not moved for 5 days, send us your order number and we "
            "will chase the courier.\n\n"
            "包裹发出后，我们会通过邮件发送快递单号，您也可以随时在“我的订单 → 查看物流”中查询"
            "状态。发货后物流信息最长需要 24 小时更新。如果 5 天没有更新，请把订单号发给我们，"
            "我们会联系快递公司跟进。"
        ),
        "keywords": "track, tracking, tracking number, where is my order, order status, parcel, "
        "package, not arrived, late, courier, 物流, 查询, 快递单号, 订单状态, 到哪了, 还没到, "
        "没收到, 包裹",
    },
    {
        "question": "What does the warranty cover? / 保修政策是什么？",
        "answer": (
            "Every product has a 12-month warranty against manufacturing defects from the date "
            "of delivery (24 months for electronics). It does not cover accidental damage, "
            "water damage or normal wear. To make a claim, send us your order number and a "
            "photo or video of the fault: we repair or replace the item, or refund it if "
            "neither is possible.\n\n"
            "所有商品自签收之日起享受 12 个月质量保修（电子产品 24 个月），人为损坏、进水及正常"
            "磨损不在保修范围内。申请保修请提供订单号和故障照片或视频，我们会为您维修或更换，无法"
            "维修或更换时予以退款。"
        ),
        "keywords": "warranty, guarantee, broken, defect, faulty, repair, replace, not working, "
        "保修, 质保, 维修, 坏了, 故障, 质量问题, 换新",
    },
    {
        "question": "How can I contact a person? / 怎么联系人工客服？",
        "answer": (
            'Type "human" here and a member of our team takes over this chat during opening '
            "hours. You can also e-mail support@demo-shop.example or call +86 21 5555 0188 "
            "(Monday to Friday 9:00–18:00).\n\n"
            "在这里输入“人工”，营业时间内客服人员会接手本对话。您也可以发邮件至 "
            "support@demo-shop.example，或拨打 +86 21 5555 0188（周一至周五 9:00–18:00）。"
        ),
        "keywords": "contact, phone, phone number, call, email, e-mail, talk to someone, "
        "speak to someone, customer service, complaint, 联系, 电话, 客服, 邮箱, 投诉, 联系方式",
    },
    {
        "question": "Thank you! / 谢谢！",
        "answer": "You're welcome! Is there anything else I can help you with?\n\n"
        "不客气！还有什么可以帮您的吗？",
        "keywords": "thanks, thank you, thx, great, ok, got it, 谢谢, 多谢, 感谢, 好的, 明白了",
    },
    {
        "question": "Can I cancel or change my order? / 可以取消或修改订单吗？",
        "answer": (
            "You can cancel or change an order free of charge until it has been handed to the "
            "courier: open My Orders, choose the order and press Cancel or Edit. Once it has "
            "shipped, refuse the delivery or use the returns process instead.\n\n"
            "订单交给快递之前可以免费取消或修改：进入“我的订单”，选择订单后点击“取消”或“修改”。"
            "已经发货的订单无法取消，可以拒收或走退货流程。"
        ),
        "keywords": "cancel, cancellation, change order, edit order, modify, wrong item ordered, "
        "取消订单, 修改订单, 不想买了, 下错单, 改订单",
    },
    {
        "question": "How do I change my delivery address? / 怎么修改收货地址？",
        "answer": (
            "Before the parcel ships, change the address under My Orders → Edit → Delivery "
            "address. After it has shipped we can ask the courier to redirect it once, for a fee "
            "of ¥10; send us the order number and the new address.\n\n"
            "发货前可在“我的订单 → 修改 → 收货地址”中更改。发货后我们可以请快递改派一次，"
            "收取 10 元改派费，请把订单号和新地址发给我们。"
        ),
        "keywords": "address, delivery address, shipping address, moved, redirect, wrong address, "
        "收货地址, 改地址, 地址写错, 搬家, 改派",
    },
    {
        "question": "How do gift cards work? / 礼品卡怎么用？",
        "answer": (
            "Gift cards come in amounts from ¥50 to ¥2,000, are delivered by e-mail and never "
            "expire. Enter the 16-digit code at checkout; the rest of the balance stays on the "
            "card for next time. Gift cards cannot be exchanged for cash.\n\n"
            "礼品卡面值 50 元至 2000 元，通过邮件发送，永久有效。结账时输入 16 位卡号即可使用，"
            "余额可留待下次使用。礼品卡不可兑换现金。"
        ),
        "keywords": "gift card, voucher, gift voucher, present, balance, 礼品卡, 购物卡, 卡号, "
        "余额, 送礼",
    },
    {
        "question": "How do I choose the right size? / 尺码怎么选？",
        "answer": (
            "Every product page has a size chart with measurements in centimetres. Our shoes "
            "run small, so we recommend half a size up; clothes follow Chinese sizing, one size "
            "smaller than European sizes. If you are between two sizes, choose the larger one.\n\n"
            "每个商品页面都有以厘米为单位的尺码表。鞋子偏小，建议选大半码；服装为国内尺码，"
            "比欧码小一号。如果介于两个尺码之间，建议选大一号。"
        ),
        "keywords": "size, sizes, size chart, fit, too small, too big, measurements, 尺码, 尺寸, "
        "码数, 偏小, 偏大, 穿多大",
    },
    {
        "question": "How do I get an invoice? / 怎么开发票？",
        "answer": (
            'Tick "I need an invoice" at checkout and enter your company name and tax number; '
            "an electronic VAT invoice (fapiao) is e-mailed within 3 business days of delivery. "
            "For an order already placed, request it under My Orders → Invoice within 90 days.\n\n"
            "结账时勾选“需要发票”，填写公司抬头和税号，签收后 3 个工作日内电子发票会发送到您的"
            "邮箱。已下单的订单可在 90 天内通过“我的订单 → 申请发票”补开。"
        ),
        "keywords": "invoice, fapiao, receipt, vat, tax number, company, 发票, 开票, 增值税, "
        "抬头, 税号, 报销",
    },
    {
        "question": "How do membership points work? / 会员积分怎么用？",
        "answer": (
            "Members earn 1 point for every ¥1 spent. 100 points are worth ¥1 off at checkout, "
            "up to half of the order value. Points expire 12 months after they were earned and "
            "are removed again if you return the item.\n\n"
            "会员每消费 1 元积 1 分，结账时 100 积分抵扣 1 元，最多抵扣订单金额的一半。积分自获得"
            "起 12 个月内有效，退货时相应积分将被扣回。"
        ),
        "keywords": "points, loyalty, membership, member, rewards, 积分, 会员, 抵扣, 积分过期",
    },
    {
        "question": "Do I pay customs duties on international orders? / 海外订单要交关税吗？",
        "answer": (
            "International orders are shipped DDU: import duties and taxes are charged by your "
            "country's customs on delivery and are paid by the recipient. We declare the real "
            "value of the goods and cannot mark orders as gifts.\n\n"
            "国际订单按未完税方式寄送：进口关税和税费由收货国海关在派送时收取，由收件人支付。"
            "我们按商品实际价值申报，无法将订单申报为礼物。"
        ),
        "keywords": "customs, duties, duty, import tax, international, overseas, abroad, 关税, "
        "海关, 清关, 税费, 海外, 国外",
    },
    {
        "question": "My parcel arrived damaged or wrong / 商品破损或发错了怎么办？",
        "answer": (
            "Sorry about that! Take photos of the parcel and the item and send them to us "
            "within 48 hours of delivery with your order number. We send a replacement at our "
            "cost, or refund you in full, and you do not need to send the damaged item back.\n\n"
            "非常抱歉！请在签收后 48 小时内拍下包裹和商品的照片，连同订单号发给我们。我们会免费"
            "补发或全额退款，破损商品无需寄回。"
        ),
        "keywords": "damaged, broken on arrival, wrong item, missing item, crushed, 破损, 摔坏, "
        "发错, 少发, 漏发, 压坏",
    },
    {
        "question": "I forgot my password / 忘记密码怎么办？",
        "answer": (
            'On the sign-in page choose "Forgot password" and enter your e-mail address or '
            "phone number. We send a reset link (valid for 1 hour) or a 6-digit SMS code. If "
            "nothing arrives within 10 minutes, check your spam folder.\n\n"
            "在登录页点击“忘记密码”，输入邮箱或手机号，我们会发送重置链接（1 小时内有效）"
            "或 6 位短信验证码。10 分钟内没有收到请检查垃圾邮件。"
        ),
        "keywords": "password, forgot password, reset, log in, login, sign in, account locked, "
        "密码, 忘记密码, 重置密码, 登录不了, 登不上, 验证码",
    },
    {
        "question": "How do I delete my account and data? / 怎么注销账号？我的数据怎么处理？",
        "answer": (
            "You can delete your account under Account → Privacy → Delete account. We erase "
            "your personal data within 30 days, except order records we must keep for 3 years "
            "for tax law. You can also download a copy of your data from the same page.\n\n"
            "在“账户 → 隐私 → 注销账号”中即可注销。我们会在 30 天内删除您的个人信息，依照税法"
            "需保留 3 年的订单记录除外。您也可以在同一页面下载个人数据副本。"
        ),
        "keywords": "delete account, close account, privacy, personal data, gdpr, data, 注销, "
        "删除账号, 隐私, 个人信息, 数据",
    },
    {
        "question": "Can I pick up my order in a store? / 可以门店自提吗？",
        "answer": (
            "Yes: choose Store pickup at checkout and pick the Shanghai store on Nanjing Road. "
            "We send a pickup code by SMS when the order is ready, usually within 2 hours; bring "
            "the code, and collect within 7 days or the order is cancelled and refunded.\n\n"
            "可以：结账时选择“门店自提”，选择南京路上海门店。备货完成后（通常 2 小时内）我们会"
            "短信发送取货码，请凭取货码在 7 天内取货，逾期订单将取消并退款。"
        ),
        "keywords": "pickup, pick up, collect, click and collect, store, shop, 自提, 门店取货, "
        "到店, 取货码",
    },
    {
        "question": "How do I use a discount code? / 优惠码怎么用？",
        "answer": (
            'Enter the code in the "Discount code" field at checkout and press Apply. One '
            "code per order; codes cannot be combined with sale prices or used on gift cards. "
            'A code that says "expired" cannot be reactivated.\n\n'
            "结账时在“优惠码”一栏输入并点击“使用”。每个订单限用一个优惠码，不能与特价商品"
            "同享，也不能用于购买礼品卡。已过期的优惠码无法重新激活。"
        ),
        "keywords": "discount, coupon, promo code, voucher code, discount code, sale, 优惠码, "
        "优惠券, 折扣, 促销, 打折",
    },
)
