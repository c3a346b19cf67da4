"""A small bilingual knowledge base and questions about it, each with the document that answers.

Written by hand for the tokeniser comparison and the ranking tests: the questions paraphrase
(different words, different order, colloquial Chinese) rather than quote the documents.
"""

DOCUMENTS = {
    "shipping": "Shipping times. Orders ship from our warehouse in Hamburg within one business "
    "day. Delivery to Berlin and the rest of Germany takes 1-2 days; the EU 3-5 days.",
    "returns": "Returns. You can send an item back within 30 days of delivery if it is unused "
    "and in its original packaging. Print the return label from your account.",
    "refunds": "Refunds. Once the returned parcel reaches us, the money goes back to the "
    "original payment method within 5 business days.",
    "payment": "Payment methods. We accept Visa, Mastercard, PayPal and bank transfer. Cash on "
    "delivery is not available.",
    "password": "Account access. Forgot your password? Use the reset link on the sign-in page; "
    "the e-mail with the link expires after one hour.",
    "warranty": "Warranty. Every appliance carries a two-year manufacturer warranty covering "
    "defects; accidental damage is not covered.",
    "giftcard": "Gift cards are sold in amounts from 10 to 500 euros, never expire and can be "
    "redeemed at checkout together with other payment methods.",
    "pickup": "Store pickup. Choose click and collect at checkout and collect the order at our "
    "Munich store after you receive the pickup e-mail.",
    "cancel": "Cancelling an order. An order can be cancelled free of charge until it has been "
    "handed to the carrier; after that, use the returns process.",
    "sizes": "Size guide. Our shoes run small: we recommend ordering half a size up. The size "
    "chart lists foot length in centimetres for each size.",
    "zh_shipping": "配送时间：国内订单在付款后二十四小时内发货，"
    "江浙沪地区一般次日送达，偏远地区需要三到七天。",
    "zh_returns": "退货政策：签收后七天内可以无理由退货，"
    "商品需保持完好，吊牌未拆，退回运费由买家承担。",
    "zh_refunds": "退款说明：仓库收到退回的商品并验货后，"
    "款项会在三个工作日内原路退回到您的支付账户。",
    "zh_invoice": "发票开具：下单时填写公司抬头和税号，"
    "即可申请增值税电子发票，发票会发送到您的邮箱。",
    "zh_points": "会员积分：每消费一元累积一个积分，一百积分可以抵扣一元现金，积分有效期为一年。",
    "zh_password": "修改密码：登录后进入账户设置页面，"
    "点击安全中心，输入原密码和新密码即可完成修改。",
    "zh_warranty": "保修服务：家电产品享受全国联保一年，主要部件保修三年，人为损坏不在保修范围内。",
    "zh_customs": "海外直邮：进口商品从海外仓库直接寄出，"
    "需要提供收件人身份证信息用于清关，关税由我们承担。",
    "zh_hours": "客服时间：在线客服每天早上九点到晚上十点为您服务，节假日照常上班。",
    "zh_coupon": "优惠券使用：每个订单只能使用一张优惠券，"
    "优惠券不能与满减活动同时使用，过期自动作废。",
}

QUESTIONS = [
    ("How long does delivery to Berlin take?", "shipping"),
    ("when will my parcel arrive in germany", "shipping"),
    ("Can I send back shoes I don't like?", "returns"),
    ("where do I get a return label", "returns"),
    ("When do I get my money back after returning something?", "refunds"),
    ("Do you take PayPal?", "payment"),
    ("can i pay cash when the package arrives", "payment"),
    ("I forgot my password", "password"),
    ("the reset email link expired", "password"),
    ("Is my broken fridge covered by the warranty?", "warranty"),
    ("do gift cards expire", "giftcard"),
    ("Can I collect my order in the Munich shop?", "pickup"),
    ("how do I cancel an order that has not shipped", "cancel"),
    ("Which shoe size should I order?", "sizes"),
    ("Do your sneakers run small or large?", "sizes"),
    ("Do you accept Mastercard credit cards?", "payment"),
    ("我的快递几天能到？", "zh_shipping"),
    ("偏远地区发货要多久", "zh_shipping"),
    ("买了不喜欢可以退吗", "zh_returns"),
    ("退货的运费谁出？", "zh_returns"),
    ("退款多久能到账", "zh_refunds"),
    ("钱什么时候退回来", "zh_refunds"),
    ("怎么开增值税发票", "zh_invoice"),
    ("公司报销需要发票抬头", "zh_invoice"),
    ("积分怎么抵现", "zh_points"),
    ("会员积分会过期吗", "zh_points"),
    ("密码忘了怎么改", "zh_password"),
    ("冰箱坏了保修几年", "zh_warranty"),
    ("进口商品要交关税吗", "zh_customs"),
    ("清关为什么要身份证", "zh_customs"),
    ("客服几点下班", "zh_hours"),
    ("两张优惠券能一起用吗", "zh_coupon"),
]
